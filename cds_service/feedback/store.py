"""Durable store for CDS Hooks feedback and for the cards the feedback refers to.

Two tables, no patient identifiers in either:

* ``issued_cards``: one row per card ``uuid`` this service handed out, with the catalog
  topic and card version, so feedback (which names only the card uuid, CDS Hooks 2.0.1
  "Feedback") can be attributed to a rule and version for accept/override metrics.
* ``feedback``: one row per distinct report. The spec lets a client report the same card
  several times (reference §7); a UNIQUE key over (service, card, outcome, outcome
  timestamp) makes an exact repeat a no-op, so the endpoint is idempotent (checklist F2).

The engine is synchronous SQLAlchemy 2.x; the web layer calls this from a thread pool, so
SQLite connections are opened with ``check_same_thread=False``. Any SQLAlchemy URL works
(``sqlite:///path``, ``sqlite://`` for memory, ``postgresql+psycopg://...``); database
errors propagate as ``sqlalchemy.exc.SQLAlchemyError`` after the batch is rolled back.

Issued cards are written on every hook call, so the web layer does not write them itself:
it queues them (``enqueue_issued``, non-blocking) and one long-lived writer thread per
store writes each batch in one transaction, within ``flush_interval_s``. A thread-pool
write per request made dozens of threads queue for SQLite's single write lock (each
commit is an fsync), which starved some past the busy timeout ("database is locked"), and
it made the worker's native heap grow under load (docs/benchmark.md, known failure 4).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from cds_service.models.feedback import (
    MAX_CODE_LENGTH,
    MAX_DISPLAY_LENGTH,
    MAX_ID_LENGTH,
    MAX_URI_LENGTH,
    FeedbackEntry,
)

OUTCOMES: tuple[str, ...] = ("accepted", "overridden")

log = logging.getLogger("cds_service.feedback")

# Longest an issued-card record waits in memory before its batch is written.
ISSUED_FLUSH_INTERVAL_S = 0.5
# A batch this large is written at once, without waiting for the interval.
_ISSUED_BATCH = 500
# While the database is failing, at most this many records wait; the oldest go first.
_ISSUED_MAX_PENDING = 50_000
# A batch that failed this many writes in a row is dropped (e.g. a value the database
# refuses would otherwise block every later record).
_ISSUED_MAX_ATTEMPTS = 3
_WRITER_JOIN_TIMEOUT_S = 10.0

# Bounded so PostgreSQL enforces what the wire model already checks; SQLite ignores them.
_SERVICE_ID_LENGTH = 128
_TOPIC_LENGTH = 256
_VERSION_LENGTH = 64
# Largest IN (...) list per query; SQLite builds before 3.32 allow only 999 parameters.
_LOOKUP_CHUNK = 500
# How long a SQLite writer waits for another writer's lock before failing.
_SQLITE_BUSY_TIMEOUT_MS = 5000


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
        utc = _as_utc(value, "timestamp")
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
    Column("service_id", String(_SERVICE_ID_LENGTH), nullable=False),
    Column("topic", String(_TOPIC_LENGTH), nullable=False),
    Column("card_version", String(_VERSION_LENGTH), nullable=False),
    Column("hook_instance", String(MAX_ID_LENGTH), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
)

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(_SERVICE_ID_LENGTH), nullable=False),
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
    # Copied from issued_cards at receipt; NULL when the card uuid is unknown to us.
    Column("topic", String(_TOPIC_LENGTH), nullable=True),
    Column("card_version", String(_VERSION_LENGTH), nullable=True),
    UniqueConstraint(
        "service_id", "card_uuid", "outcome", "outcome_timestamp", name="uq_feedback_report"
    ),
    CheckConstraint("outcome IN ('accepted', 'overridden')", name="ck_feedback_outcome"),
    Index("ix_feedback_topic_outcome", "topic", "outcome"),
)

_FEEDBACK_KEY = ("service_id", "card_uuid", "outcome", "outcome_timestamp")
_ISSUED_KEY = ("card_uuid",)


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A card this service returned; recorded so later feedback can be attributed."""

    card_uuid: str
    service_id: str
    topic: str
    card_version: str
    hook_instance: str
    issued_at: datetime


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
    """Feedback persistence over any SQLAlchemy database URL.

    Thread-safe: each call takes its own connection from the engine's pool (an in-memory
    SQLite database has a single shared connection, so calls on it are serialised).
    Queued issued cards (``enqueue_issued``) are written by one writer thread, started at
    the first enqueue and stopped by ``close``.
    """

    def __init__(self, url: str, *, flush_interval_s: float = ISSUED_FLUSH_INTERVAL_S) -> None:
        """Open (but do not create) the database at ``url``; see ``create_schema``.

        ``flush_interval_s`` bounds how long a queued issued card waits before it is written.
        """
        if flush_interval_s <= 0:
            raise ValueError("flush_interval_s must be positive")
        self._engine, in_memory = _make_engine(url)
        # One shared connection (StaticPool) must not interleave two transactions.
        self._lock: AbstractContextManager[Any] = threading.Lock() if in_memory else nullcontext()
        self._flush_interval_s = flush_interval_s
        # Guards the queue below; the writer thread waits on it.
        self._queue = threading.Condition(threading.Lock())
        self._pending: list[IssuedCard] = []
        self._failed_attempts = 0
        self._closing = False
        self._writer: threading.Thread | None = None
        # One flush at a time, so batches reach the database in the order they were queued.
        self._flush_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The underlying engine (for migrations and diagnostics)."""
        return self._engine

    def create_schema(self) -> None:
        """Create the tables and indexes if they do not exist (idempotent)."""
        with self._lock:
            metadata.create_all(self._engine)

    def record_issued(self, cards: Sequence[IssuedCard]) -> None:
        """Remember cards handed to a client; a uuid already recorded is left unchanged."""
        rows = [
            {
                "card_uuid": card.card_uuid,
                "service_id": card.service_id,
                "topic": card.topic,
                "card_version": card.card_version,
                "hook_instance": card.hook_instance,
                "issued_at": _as_utc(card.issued_at, "issued_at"),
            }
            for card in cards
        ]
        if not rows:
            return
        with self._lock, self._write_transaction() as conn:
            insert_ignoring_duplicates(conn, issued_cards_table, rows, _ISSUED_KEY)

    def enqueue_issued(self, cards: Sequence[IssuedCard]) -> None:
        """Queue cards for ``record_issued`` on the writer thread; never waits for the database.

        They are written within ``flush_interval_s`` (at once when a batch fills), always
        before a later ``record_feedback`` looks them up, and at the latest by ``close``.
        A failed write is retried at the next interval.
        """
        for card in cards:
            _as_utc(card.issued_at, "issued_at")  # refuse bad input here, not in the writer
        if not cards:
            return
        with self._queue:
            if self._closing:
                raise RuntimeError("the feedback store is closed")
            self._pending.extend(cards)
            overflow = len(self._pending) - _ISSUED_MAX_PENDING
            if overflow > 0:
                del self._pending[:overflow]
                log.error("issued-card queue full: dropped %d oldest records", overflow)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_queued, name="feedback-issued-writer", daemon=True
                )
                self._writer.start()
            if len(self._pending) >= _ISSUED_BATCH:
                self._queue.notify()

    def flush_issued(self) -> int:
        """Write every queued issued card now, on the calling thread; return how many.

        On a database error the batch goes back to the head of the queue (dropped after
        ``_ISSUED_MAX_ATTEMPTS`` failures in a row) and the error propagates.
        """
        with self._flush_lock:
            with self._queue:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self.record_issued(batch)
            except Exception:
                with self._queue:
                    self._failed_attempts += 1
                    if self._failed_attempts < _ISSUED_MAX_ATTEMPTS:
                        self._pending[:0] = batch
                    else:
                        self._failed_attempts = 0
                        log.error("dropped %d issued-card records after %d failed writes",
                                  len(batch), _ISSUED_MAX_ATTEMPTS)
                raise
            with self._queue:
                self._failed_attempts = 0
            return len(batch)

    def record_feedback(
        self, service_id: str, entries: Sequence[FeedbackEntry], received_at: datetime
    ) -> int:
        """Store a batch of feedback for ``service_id``; return how many reports were new.

        The whole batch is one transaction: if anything fails, none of it is stored and
        rows stored by earlier calls are untouched. Exact repeats (same service, card,
        outcome and outcome timestamp), within the batch or across calls, are ignored.
        """
        received = _as_utc(received_at, "received_at")
        if not entries:
            return 0
        # Cards still queued must be visible to the lookup, or their feedback would be
        # stored without a topic.
        self._flush_quietly()
        with self._lock:
            # Issued-card rows never change once written, so reading them before the write
            # transaction is safe, and it keeps that transaction write-only: SQLite can then
            # wait for the write lock instead of failing a read-to-write upgrade.
            known = self._issued_lookup(service_id, {entry.card for entry in entries})
            rows = [_feedback_row(service_id, entry, received, known) for entry in entries]
            with self._write_transaction() as conn:
                return insert_ignoring_duplicates(conn, feedback_table, rows, _FEEDBACK_KEY)

    def list_feedback(self, service_id: str | None = None) -> list[StoredFeedback]:
        """All stored feedback (optionally of one service), oldest receipt first."""
        query = select(feedback_table).order_by(
            feedback_table.c.received_at, feedback_table.c.id
        )
        if service_id is not None:
            query = query.where(feedback_table.c.service_id == service_id)
        with self._lock, self._engine.connect() as conn:
            return [_stored_feedback(dict(row)) for row in conn.execute(query).mappings()]

    def outcome_counts(self, service_id: str | None = None) -> dict[str | None, dict[str, int]]:
        """Accept/override counts per card topic: ``{topic: {"accepted": n, "overridden": m}}``.

        Every topic present gets both outcome keys (0 when none). Feedback on cards this
        service has no issue record for is counted under the topic ``None``.
        """
        query = select(
            feedback_table.c.topic, feedback_table.c.outcome, func.count().label("n")
        ).group_by(feedback_table.c.topic, feedback_table.c.outcome)
        if service_id is not None:
            query = query.where(feedback_table.c.service_id == service_id)
        counts: dict[str | None, dict[str, int]] = {}
        with self._lock, self._engine.connect() as conn:
            for topic, outcome, n in conn.execute(query):
                per_topic = counts.setdefault(topic, dict.fromkeys(OUTCOMES, 0))
                per_topic[outcome] = int(n)
        return counts

    def card_attribution(
        self, service_id: str, card_uuids: Iterable[str]
    ) -> dict[str, tuple[str, str]]:
        """Card uuid -> (topic, card_version) for cards this service issued (for metrics)."""
        with self._lock:
            return self._issued_lookup(service_id, card_uuids)

    def close(self) -> None:
        """Write queued issued cards, stop the writer and release all pooled connections
        (an in-memory database is discarded). Idempotent."""
        with self._queue:
            self._closing = True
            writer = self._writer
            self._queue.notify()
        if writer is not None:
            writer.join(_WRITER_JOIN_TIMEOUT_S)
        self._flush_quietly()
        self._engine.dispose()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        """A transaction that will write.

        On SQLite it starts with ``BEGIN IMMEDIATE``: the write lock is taken up front,
        where the busy timeout applies. A deferred transaction that has read first and then
        upgrades to a write may instead get SQLITE_BUSY at once, without waiting, since
        waiting could deadlock (https://www.sqlite.org/lang_transaction.html). The sqlite3
        driver sends no BEGIN of its own while a transaction is open, and still commits.
        Other databases keep their usual transaction.
        """
        with self._engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    def _write_queued(self) -> None:
        """Writer thread: write the queue once its oldest record has waited the interval
        (or a batch is full), until ``close``."""
        while True:
            with self._queue:
                while not self._pending and not self._closing:
                    self._queue.wait()
                if not self._closing and len(self._pending) < _ISSUED_BATCH:
                    self._queue.wait(self._flush_interval_s)
                closing = self._closing
            if closing:
                return  # ``close`` writes what is left, on its own thread
            self._flush_quietly()

    def _flush_quietly(self) -> None:
        try:
            self.flush_issued()
        except Exception:  # kept queued and retried; never kill the writer or a caller
            log.exception("could not record issued cards (kept queued for a retry)")

    def _issued_lookup(
        self, service_id: str, card_uuids: Iterable[str]
    ) -> dict[str, tuple[str, str]]:
        """Map card uuid -> (topic, card_version) for cards this service issued."""
        uuids = sorted(set(card_uuids))
        found: dict[str, tuple[str, str]] = {}
        table = issued_cards_table
        with self._engine.connect() as conn:
            for start in range(0, len(uuids), _LOOKUP_CHUNK):
                chunk = uuids[start : start + _LOOKUP_CHUNK]
                query = select(table.c.card_uuid, table.c.topic, table.c.card_version).where(
                    table.c.service_id == service_id, table.c.card_uuid.in_(chunk)
                )
                for card_uuid, topic, version in conn.execute(query):
                    found[card_uuid] = (topic, version)
        return found


def insert_ignoring_duplicates(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key_columns: Sequence[str],
) -> int:
    """Insert ``rows`` into ``table`` inside the caller's transaction, skipping any row
    whose unique key (``key_columns``) already exists. Returns the number inserted.

    SQLite and PostgreSQL use ``INSERT ... ON CONFLICT DO NOTHING``, which is atomic and
    never aborts the transaction. Other databases fall back to check-then-insert.
    """
    statement: Any
    if conn.dialect.name == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing()
    elif conn.dialect.name == "postgresql":
        statement = postgresql_insert(table).on_conflict_do_nothing()
    else:
        return insert_checking_first(conn, table, rows, key_columns)
    inserted = 0
    for row in rows:
        # One execute per row: executemany rowcount is not reliable across drivers.
        inserted += conn.execute(statement, dict(row)).rowcount
    return inserted


def insert_checking_first(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key_columns: Sequence[str],
) -> int:
    """Portable fallback of ``insert_ignoring_duplicates``: look the key up, then insert.

    Rows inserted earlier in the same transaction are visible, so repeats within a batch
    are skipped too. Under a concurrent writer of the same key the unique constraint
    still holds: the later transaction fails as a whole and the client may resend.
    """
    inserted = 0
    for row in rows:
        condition = and_(*(table.c[name] == row[name] for name in key_columns))
        if conn.execute(select(1).select_from(table).where(condition).limit(1)).first():
            continue
        conn.execute(insert(table), dict(row))
        inserted += 1
    return inserted


def _feedback_row(
    service_id: str,
    entry: FeedbackEntry,
    received_at: datetime,
    known: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    reason = entry.overrideReason.reason if entry.overrideReason else None
    suggestion_ids = entry.accepted_suggestion_ids
    topic, version = known.get(entry.card, (None, None))
    return {
        "service_id": service_id,
        "card_uuid": entry.card,
        "outcome": entry.outcome,
        "accepted_suggestions": json.dumps(list(suggestion_ids)) if suggestion_ids else None,
        "override_code": reason.code if reason else None,
        "override_system": reason.system if reason else None,
        "override_display": reason.display if reason else None,
        "user_comment": entry.overrideReason.userComment if entry.overrideReason else None,
        "outcome_timestamp": _as_utc(entry.outcomeTimestamp, "outcomeTimestamp"),
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


def _as_utc(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused rather than guessed at."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(timezone.utc)


def _make_engine(url: str) -> tuple[Engine, bool]:
    """Build the engine for ``url``; return it and whether it is an in-memory SQLite DB."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: a server restart must not surface as a failed feedback POST.
        return create_engine(parsed, pool_pre_ping=True), False
    in_memory = _is_sqlite_memory(parsed)
    connect_args = {
        # The web layer calls the store from a thread pool.
        "check_same_thread": False,
        "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000,
    }
    if in_memory:
        # Every new connection to ":memory:" is a new, empty database: share one.
        engine = create_engine(parsed, connect_args=connect_args, poolclass=StaticPool)
    else:
        database = parsed.database or ""
        if not _sqlite_uri_mode(parsed):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
    return engine, in_memory


def _sqlite_uri_mode(url: URL) -> bool:
    return str(url.query.get("uri", "")).lower() in ("true", "1")


def _is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return _sqlite_uri_mode(url) and (
        str(url.query.get("mode", "")) == "memory" or database.startswith(":memory:")
    )


def _sqlite_pragmas(*, wal: bool) -> Any:
    """Connect hook setting per-connection SQLite pragmas."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                # WAL: readers (metrics) never block the feedback writer, and a crash
                # mid-write leaves the last committed state intact.
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit we answered 200 for survives power loss, not just a crash;
            # feedback volume is tiny, so the extra fsync costs nothing noticeable.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return on_connect
