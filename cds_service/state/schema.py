"""The SQL tables of the shared state, and the timestamp type they use.

No patient identifiers in any table:

* ``issued_cards``: one row per card ``uuid`` this service handed out, with the catalog
  topic and card version, so feedback (which names only the card uuid, CDS Hooks 2.0.1
  "Feedback") can be attributed to a rule and version for accept/override metrics.
* ``feedback``: one row per distinct report. The spec lets a client report the same card
  several times (reference §7); a UNIQUE key over (service, card, outcome, outcome
  timestamp) makes an exact repeat a no-op, so the endpoint is idempotent (checklist F2).
* ``replay_jti``: client JWT ids seen while their token could still be valid, shared by
  every worker and replica using this database (CDS Hooks 2.0 ``jti``).
* ``jwks_cache``: JWK Set documents fetched from allowlisted ``jku`` URLs, so one fetch
  serves every worker.

Changes to these tables are Alembic migrations (``migrations/versions``); the tables here
must always equal the head revision (a test compares them).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from cds_service.models.feedback import (
    MAX_CODE_LENGTH,
    MAX_DISPLAY_LENGTH,
    MAX_ID_LENGTH,
    MAX_URI_LENGTH,
)

# Bounded so PostgreSQL enforces what the wire model already checks; SQLite ignores them.
SERVICE_ID_LENGTH = 128
TOPIC_LENGTH = 256
VERSION_LENGTH = 64
# A replay key is "<issuer>\n<jti>"; both are bounded by the token size limit (16 KiB),
# so the key is stored as a fixed-size digest rather than as text.
REPLAY_KEY_LENGTH = 64
JKU_URL_LENGTH = 2048


def as_utc(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused rather than guessed at."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that only accepts aware datetimes and always comes back in UTC.

    SQLite has no time-zone type, so values are stored there as naive UTC text; that keeps
    equal instants byte-equal, which the feedback UNIQUE key relies on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value, "timestamp")
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected timestamp value from database: {type(value)!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = MetaData()

issued_cards_table = Table(
    "issued_cards",
    metadata,
    Column("card_uuid", String(MAX_ID_LENGTH), primary_key=True),
    Column("service_id", String(SERVICE_ID_LENGTH), nullable=False),
    Column("topic", String(TOPIC_LENGTH), nullable=False),
    Column("card_version", String(VERSION_LENGTH), nullable=False),
    Column("hook_instance", String(MAX_ID_LENGTH), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
)

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(SERVICE_ID_LENGTH), nullable=False),
    Column("card_uuid", String(MAX_ID_LENGTH), nullable=False),
    Column("outcome", String(16), nullable=False),
    # JSON text list of suggestion uuids; NULL when the client listed none.
    Column("accepted_suggestions", Text, nullable=True),
    Column("override_code", String(MAX_CODE_LENGTH), nullable=True),
    Column("override_system", String(MAX_URI_LENGTH), nullable=True),
    Column("override_display", String(MAX_DISPLAY_LENGTH), nullable=True),
    Column("user_comment", Text, nullable=True),
    Column("outcome_timestamp", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    # From issued_cards (or the card uuid itself) at receipt; NULL when unknown to us.
    Column("topic", String(TOPIC_LENGTH), nullable=True),
    Column("card_version", String(VERSION_LENGTH), nullable=True),
    UniqueConstraint(
        "service_id", "card_uuid", "outcome", "outcome_timestamp", name="uq_feedback_report"
    ),
    CheckConstraint("outcome IN ('accepted', 'overridden')", name="ck_feedback_outcome"),
    Index("ix_feedback_topic_outcome", "topic", "outcome"),
)

replay_table = Table(
    "replay_jti",
    metadata,
    # hex SHA-256 of "<iss>\n<jti>"
    Column("key", String(REPLAY_KEY_LENGTH), primary_key=True),
    # Unix time after which the token can no longer be valid (exp + clock skew).
    Column("expires_at", Float, nullable=False),
    Index("ix_replay_jti_expires_at", "expires_at"),
)

jwks_cache_table = Table(
    "jwks_cache",
    metadata,
    Column("url", String(JKU_URL_LENGTH), primary_key=True),
    Column("document", LargeBinary, nullable=False),
    # Unix time of the successful fetch.
    Column("fetched_at", Float, nullable=False),
)

FEEDBACK_KEY = ("service_id", "card_uuid", "outcome", "outcome_timestamp")
ISSUED_KEY = ("card_uuid",)
