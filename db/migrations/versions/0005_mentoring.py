"""mentor buddies

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types  # noqa: F401  (UTCDateTime)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentoring_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("import_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("telegram_id"),
        sa.UniqueConstraint("username"),
        sa.UniqueConstraint("import_ref"),
    )
    op.create_table(
        "mentoring_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("org_type", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("town", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("topics", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("stages", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("partner_types", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("story", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("waiting_since", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["mentoring_person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "role", name="uq_mentoring_profile_person_role"),
    )
    with op.batch_alter_table("mentoring_profile", schema=None) as batch_op:
        batch_op.create_index("ix_mentoring_profile_person_id", ["person_id"], unique=False)
        batch_op.create_index("ix_mentoring_profile_role_active", ["role", "active"], unique=False)

    op.create_table(
        "mentor_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("why", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mentor_told_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mentor_message_id", sa.BigInteger(), nullable=True),
        sa.Column("responded_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checkin_due", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checkin_asks", sa.Integer(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=True),
        sa.Column("review_due", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("ended_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(["mentee_id"], ["mentoring_person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["mentor_id"], ["mentoring_person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mentor_match", schema=None) as batch_op:
        batch_op.create_index("ix_mentor_match_pair", ["mentee_id", "mentor_id"], unique=False)
        batch_op.create_index("ix_mentor_match_status", ["status"], unique=False)

    op.create_table(
        "mentor_relay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["mentor_match.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "message_id", name="uq_mentor_relay_message"),
    )
    with op.batch_alter_table("mentor_relay", schema=None) as batch_op:
        batch_op.create_index("ix_mentor_relay_match_id", ["match_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mentor_relay", schema=None) as batch_op:
        batch_op.drop_index("ix_mentor_relay_match_id")
    op.drop_table("mentor_relay")
    with op.batch_alter_table("mentor_match", schema=None) as batch_op:
        batch_op.drop_index("ix_mentor_match_status")
        batch_op.drop_index("ix_mentor_match_pair")
    op.drop_table("mentor_match")
    with op.batch_alter_table("mentoring_profile", schema=None) as batch_op:
        batch_op.drop_index("ix_mentoring_profile_role_active")
        batch_op.drop_index("ix_mentoring_profile_person_id")
    op.drop_table("mentoring_profile")
    op.drop_table("mentoring_person")
