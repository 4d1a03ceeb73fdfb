"""The rules of mentor buddies, free of Telegram: profiles, who may mentor whom, scores and reasons,
requests and answers, the waiting list, follow-ups, and the privacy hooks.

Why plain Python: the same rules serve the chat (bot/handlers/mentoring/), the admins' command line
(bot/cli_mentors.py, bot/mentor_import.py) and the whole-cohort assignment (bot/mentor_matching.py), and
they are tested without a bot. Everything that must survive a restart is a row (db/mentoring_models.py);
scheduled follow-ups are due times on rows that the scheduler claims, never timers held in memory.

The rules are split by concern; this package re-exports every public name, so callers keep writing
``from bot import mentoring as rules`` and ``rules.score_pair``:

- ``lists``: the fixed lists (roles, topics, kinds of organisation, regions, stages) and their slugs;
- ``cleaning``: cleaning what people type (names, stories, organisations, usernames);
- ``drafts``: a profile as plain values and its validation;
- ``scoring``: the hard constraints, the score of a pair, the reason in words, the ranking;
- ``store``: match statuses, :class:`Parties` and the storage helpers the other modules share;
- ``profiles``: people and their stored profiles (linking, saving, pausing, deleting);
- ``suggestions``: suggestions for a mentee, the waiting list, admins' proposals;
- ``requests``: a request's life (ask, accept / decline / pause, withdraw, time out);
- ``followups``: the two-week check-in, the three-month review, ending and rating a match;
- ``relay``: passing messages between buddies without usernames;
- ``privacy``: export and forget (bot/privacy.py);
- ``cohort``: the admins' whole-cohort view.
"""

from bot.mentoring.cleaning import (
    USERNAME_PATTERN,
    clean_line,
    clean_story,
    normalise_org,
    normalise_username,
)
from bot.mentoring.cohort import (
    Cohort,
    list_profiles,
    load_cohort,
    person_ref,
    record_proposals,
)
from bot.mentoring.drafts import (
    MAX_CAPACITY,
    MIN_CAPACITY,
    ProfileDraft,
    ProfileError,
    apply_draft,
    draft_from_profile,
    validate_draft,
)
from bot.mentoring.followups import (
    CHECKIN_AFTER,
    CHECKIN_AGAIN_AFTER,
    CONNECTED,
    DIFFERENT,
    MAX_CHECKIN_ASKS,
    NOT_YET,
    REVIEW_AFTER,
    answer_checkin,
    answer_review,
    claim_due_checkins,
    claim_due_reviews,
    end_match,
    rate_match,
)
from bot.mentoring.lists import (
    MENTEE,
    MENTOR,
    ORG_TYPE_BY_SLUG,
    ORG_TYPES,
    REGION_BY_SLUG,
    REGIONS,
    ROLES,
    STAGE_BY_SLUG,
    STAGES,
    TOPIC_BY_SLUG,
    TOPICS,
    Choice,
    join_slugs,
    label,
    split_slugs,
)
from bot.mentoring.privacy import (
    describe_user_data,
    export_user_data,
    forget_user,
)
from bot.mentoring.profiles import (
    delete_profile,
    link_person,
    profiles_of,
    save_profile,
    set_active,
)
from bot.mentoring.relay import (
    add_relay,
    relay_target,
)
from bot.mentoring.requests import (
    ACCEPT,
    DECLINE,
    PAUSE,
    cancel_request,
    claim_timeouts,
    claim_unsent_requests,
    mentor_matches,
    request_mentor,
    respond,
    set_mentor_message,
)
from bot.mentoring.scoring import (
    MAX_SUGGESTIONS,
    MENTOR_FULL,
    MENTOR_PAUSED,
    NO_SHARED_TOPIC,
    PAIR_BEFORE,
    PARTNER_PREFERENCE,
    SAME_ORGANISATION,
    SAME_PERSON,
    SIMILAR_STORY,
    WEIGHT_COVERAGE,
    WEIGHT_LOAD,
    WEIGHT_PARTNER,
    WEIGHT_REGION,
    WEIGHT_STAGE,
    WEIGHT_STORY,
    MatchProfile,
    Score,
    constraint_problem,
    explain,
    rank,
    score_pair,
    story_key,
    story_similarity,
)
from bot.mentoring.store import (
    ACTIVE_MATCH,
    ENDED_PAIR,
    MentoringError,
    Parties,
)
from bot.mentoring.suggestions import (
    MenteeStatus,
    Suggestion,
    claim_undelivered_proposals,
    claim_waiting_with_mentors,
    mentee_status,
)

__all__ = [
    "ACCEPT",
    "ACTIVE_MATCH",
    "CHECKIN_AFTER",
    "CHECKIN_AGAIN_AFTER",
    "CONNECTED",
    "DECLINE",
    "DIFFERENT",
    "ENDED_PAIR",
    "MAX_CAPACITY",
    "MAX_CHECKIN_ASKS",
    "MAX_SUGGESTIONS",
    "MENTEE",
    "MENTOR",
    "MENTOR_FULL",
    "MENTOR_PAUSED",
    "MIN_CAPACITY",
    "NOT_YET",
    "NO_SHARED_TOPIC",
    "ORG_TYPES",
    "ORG_TYPE_BY_SLUG",
    "PAIR_BEFORE",
    "PARTNER_PREFERENCE",
    "PAUSE",
    "REGIONS",
    "REGION_BY_SLUG",
    "REVIEW_AFTER",
    "ROLES",
    "SAME_ORGANISATION",
    "SAME_PERSON",
    "SIMILAR_STORY",
    "STAGES",
    "STAGE_BY_SLUG",
    "TOPICS",
    "TOPIC_BY_SLUG",
    "USERNAME_PATTERN",
    "WEIGHT_COVERAGE",
    "WEIGHT_LOAD",
    "WEIGHT_PARTNER",
    "WEIGHT_REGION",
    "WEIGHT_STAGE",
    "WEIGHT_STORY",
    "Choice",
    "Cohort",
    "MatchProfile",
    "MenteeStatus",
    "MentoringError",
    "Parties",
    "ProfileDraft",
    "ProfileError",
    "Score",
    "Suggestion",
    "add_relay",
    "answer_checkin",
    "answer_review",
    "apply_draft",
    "cancel_request",
    "claim_due_checkins",
    "claim_due_reviews",
    "claim_timeouts",
    "claim_undelivered_proposals",
    "claim_unsent_requests",
    "claim_waiting_with_mentors",
    "clean_line",
    "clean_story",
    "constraint_problem",
    "delete_profile",
    "describe_user_data",
    "draft_from_profile",
    "end_match",
    "explain",
    "export_user_data",
    "forget_user",
    "join_slugs",
    "label",
    "link_person",
    "list_profiles",
    "load_cohort",
    "mentee_status",
    "mentor_matches",
    "normalise_org",
    "normalise_username",
    "person_ref",
    "profiles_of",
    "rank",
    "rate_match",
    "record_proposals",
    "relay_target",
    "request_mentor",
    "respond",
    "save_profile",
    "score_pair",
    "set_active",
    "set_mentor_message",
    "split_slugs",
    "story_key",
    "story_similarity",
    "validate_draft",
]
