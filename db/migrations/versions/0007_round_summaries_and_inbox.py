"""fixed anonymous round summaries; an inbox of fetched updates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types  # noqa: F401  (UTCDateTime)


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_round_summary',
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('closed_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('averages', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('comments', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['occurrence_id'], ['review_occurrence.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partnership_id'], ['review_partnership.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('occurrence_id')
    )
    with op.batch_alter_table('review_round_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_round_summary_partnership_id'), ['partnership_id'], unique=False)
    op.create_table('inbox_update',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('received_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('inbox_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_update_handled_at'), ['handled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_update_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('inbox_update')
    op.drop_table('review_round_summary')
