"""Feedback: what clinicians did with the cards, stored once per distinct report.

``FeedbackStore`` is the feedback side of the state layer: the queries on the
``feedback`` table, and the issued-card record they attribute reports with (written by
``issued.IssuedWriter``). Database errors propagate as ``sqlalchemy.exc.SQLAlchemyError``
after the batch is rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from cds_service.models.feedback import FeedbackEntry

from .issued import ISSUED_FLUSH_INTERVAL_S, IssuedCard, IssuedWriter, issued_lookup, record_issued
from .schema import FEEDBACK_KEY, as_utc, feedback_table
from .sql import SqlDatabase, insert_ignoring_duplicates

OUTCOMES: tuple[str, ...] = ("accepted", "overridden")

# card uuid -> (topic, version) for a uuid that names its card (see ``card_ids``).
Attribution = Callable[[str], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class StoredFeedback:
    """One stored feedback report, as read back from the database (timestamps in UTC)."""

    id: int
    service_id: str
    card_uuid: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_code: str | None
    override_system: str | None
    override_display: str | None
    user_comment: str | None
    outcome_timestamp: datetime
    received_at: datetime
    topic: str | None
    card_version: str | None


class FeedbackStore:
    """Feedback persistence over a SQLite or PostgreSQL database.

    ``database`` is a SQLAlchemy URL or an open :class:`SqlDatabase` (shared with the rest
    of the state layer; then ``close`` leaves it open). ``attribution`` names the topic and
    version of a card uuid missing from ``issued_cards``.
    """

    def __init__(
        self,
        database: str | SqlDatabase,
        *,
        flush_interval_s: float = ISSUED_FLUSH_INTERVAL_S,
        attribution: Attribution | None = None,
    ) -> None:
        self._owns_db = isinstance(database, str)
        self._db = SqlDatabase(database) if isinstance(database, str) else database
        self._writer = IssuedWriter(self._db, flush_interval_s=flush_interval_s)
        self._attribution = attribution

    @property
    def engine(self) -> Engine:
        """The underlying engine (for migrations and diagnostics)."""
        return self._db.engine

    @property
    def database(self) -> SqlDatabase:
        return self._db

    def create_schema(self) -> None:
        """Bring the database to the current schema (Alembic ``upgrade head``; idempotent)."""
        from .migrate import upgrade

        upgrade(self._db)

    def record_issued(self, cards: Sequence[IssuedCard]) -> None:
        """Remember cards handed to a client; a uuid already recorded is left unchanged."""
        record_issued(self._db, cards)

    def enqueue_issued(self, cards: Sequence[IssuedCard]) -> None:
        """Queue cards for ``record_issued`` on the writer thread; never waits for the database.

        Queued cards are written before a later ``record_feedback`` looks them up.
        """
        self._writer.enqueue(cards)

    def flush_issued(self) -> int:
        """Write every queued issued card now; return how many (see ``IssuedWriter.flush``)."""
        return self._writer.flush()

    def record_feedback(
        self, service_id: str, entries: Sequence[FeedbackEntry], received_at: datetime
    ) -> int:
        """Store a batch of feedback for ``service_id``; return how many reports were new
        (exactly, on every backend).

        The whole batch is one transaction: if anything fails, none of it is stored and
        rows stored by earlier calls are untouched. Exact repeats (same service, card,
        outcome and outcome timestamp), within the batch or across calls, are ignored.
        """
        received = as_utc(received_at, "received_at")
        if not entries:
            return 0
        # Cards still queued must be visible to the lookup, or their feedback would be
        # attributed only through the uuid.
        self._writer.flush_quietly()
        # Issued-card rows never change once written, so reading them before the write
        # transaction is safe, and it keeps that transaction write-only: SQLite can then
        # wait for the write lock instead of failing a read-to-write upgrade.
        known = issued_lookup(self._db, service_id, {entry.card for entry in entries})
        rows = [
            _feedback_row(service_id, entry, received, self._attribute(known, entry.card))
            for entry in entries
        ]
        with self._db.lock, self._db.write_transaction() as conn:
            return insert_ignoring_duplicates(conn, feedback_table, rows, FEEDBACK_KEY)

    def list_feedback(self, service_id: str | None = None) -> list[StoredFeedback]:
        """All stored feedback (optionally of one service), oldest receipt first."""
        query = select(feedback_table).order_by(
            feedback_table.c.received_at, feedback_table.c.id
        )
        if service_id is not None:
            query = query.where(feedback_table.c.service_id == service_id)
        with self._db.lock, self._db.engine.connect() as conn:
            return [_stored_feedback(dict(row)) for row in conn.execute(query).mappings()]

    def outcome_counts(self, service_id: str | None = None) -> dict[str | None, dict[str, int]]:
        """Accept/override counts per card topic: ``{topic: {"accepted": n, "overridden": m}}``.

        Every topic present gets both outcome keys (0 when none). Feedback on cards this
        service cannot attribute is counted under the topic ``None``.
        """
        query = select(
            feedback_table.c.topic, feedback_table.c.outcome, func.count().label("n")
        ).group_by(feedback_table.c.topic, feedback_table.c.outcome)
        if service_id is not None:
            query = query.where(feedback_table.c.service_id == service_id)
        counts: dict[str | None, dict[str, int]] = {}
        with self._db.lock, self._db.engine.connect() as conn:
            for topic, outcome, n in conn.execute(query):
                per_topic = counts.setdefault(topic, dict.fromkeys(OUTCOMES, 0))
                per_topic[outcome] = int(n)
        return counts

    def close(self) -> None:
        """Write queued issued cards, stop the writer and, if this store opened the
        database, release its connections (an in-memory database is discarded). Idempotent."""
        self._writer.close()
        if self._owns_db:
            self._db.dispose()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def card_attribution(
        self, service_id: str, card_uuids: Iterable[str]
    ) -> dict[str, tuple[str, str]]:
        """Card uuid -> (topic, card_version), as ``record_feedback`` attributes them (the
        ``issued_cards`` row, else the uuid itself); unknown cards are left out. For metrics."""
        uuids = set(card_uuids)
        known = issued_lookup(self._db, service_id, uuids)
        found: dict[str, tuple[str, str]] = {}
        for card_uuid in uuids:
            topic, version = self._attribute(known, card_uuid)
            if topic is not None and version is not None:
                found[card_uuid] = (topic, version)
        return found

    def _attribute(
        self, known: Mapping[str, tuple[str, str]], card_uuid: str
    ) -> tuple[str | None, str | None]:
        found = known.get(card_uuid)
        if found is None and self._attribution is not None:
            found = self._attribution(card_uuid)
        return found if found is not None else (None, None)


def _feedback_row(
    service_id: str,
    entry: FeedbackEntry,
    received_at: datetime,
    attributed: tuple[str | None, str | None],
) -> dict[str, Any]:
    reason = entry.overrideReason.reason if entry.overrideReason else None
    suggestion_ids = entry.accepted_suggestion_ids
    topic, version = attributed
    return {
        "service_id": service_id,
        "card_uuid": entry.card,
        "outcome": entry.outcome,
        "accepted_suggestions": json.dumps(list(suggestion_ids)) if suggestion_ids else None,
        "override_code": reason.code if reason else None,
        "override_system": reason.system if reason else None,
        "override_display": reason.display if reason else None,
        "user_comment": entry.overrideReason.userComment if entry.overrideReason else None,
        "outcome_timestamp": as_utc(entry.outcomeTimestamp, "outcomeTimestamp"),
        "received_at": received_at,
        "topic": topic,
        "card_version": version,
    }


def _stored_feedback(row: Mapping[str, Any]) -> StoredFeedback:
    raw_ids = row["accepted_suggestions"]
    return StoredFeedback(
        id=row["id"],
        service_id=row["service_id"],
        card_uuid=row["card_uuid"],
        outcome=row["outcome"],
        accepted_suggestions=tuple(json.loads(raw_ids)) if raw_ids else (),
        override_code=row["override_code"],
        override_system=row["override_system"],
        override_display=row["override_display"],
        user_comment=row["user_comment"],
        outcome_timestamp=row["outcome_timestamp"],
        received_at=row["received_at"],
        topic=row["topic"],
        card_version=row["card_version"],
    )
