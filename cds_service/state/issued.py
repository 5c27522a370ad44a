"""Issued cards: the record of every card handed out, written in batches by one thread.

Issued cards are written on every hook call, so the web layer does not write them itself:
it queues them (``IssuedWriter.enqueue``, non-blocking) and one long-lived writer thread
writes each batch in one transaction, within ``flush_interval_s``. A thread-pool write per
request made dozens of threads queue for SQLite's single write lock (each commit is an
fsync), which starved some past the busy timeout ("database is locked"), and it made the
worker's native heap grow under load (docs/benchmark.md, known failure 4).

What a crash loses here (the queue) is recovered from the card uuid itself
(``card_ids``), so feedback attribution survives ``kill -9``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .schema import ISSUED_KEY, as_utc, issued_cards_table
from .sql import SqlDatabase, insert_ignoring_duplicates

log = logging.getLogger("cds_service.feedback")

# Longest an issued-card record waits in memory before its batch is written.
ISSUED_FLUSH_INTERVAL_S = 0.5
# A batch this large is written at once, without waiting for the interval.
ISSUED_BATCH = 500
# While the database is failing, at most this many records wait; the oldest go first.
ISSUED_MAX_PENDING = 50_000
# A batch that failed this many writes in a row is dropped (e.g. a value the database
# refuses would otherwise block every later record).
ISSUED_MAX_ATTEMPTS = 3
_WRITER_JOIN_TIMEOUT_S = 10.0
# Largest IN (...) list per query; SQLite builds before 3.32 allow only 999 parameters.
_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A card this service returned; recorded so later feedback can be attributed."""

    card_uuid: str
    service_id: str
    topic: str
    card_version: str
    hook_instance: str
    issued_at: datetime


def record_issued(db: SqlDatabase, cards: Sequence[IssuedCard]) -> int:
    """Remember cards handed to a client; a uuid already recorded is left unchanged.
    Returns how many were new."""
    rows = [
        {
            "card_uuid": card.card_uuid,
            "service_id": card.service_id,
            "topic": card.topic,
            "card_version": card.card_version,
            "hook_instance": card.hook_instance,
            "issued_at": as_utc(card.issued_at, "issued_at"),
        }
        for card in cards
    ]
    if not rows:
        return 0
    with db.lock, db.write_transaction() as conn:
        return insert_ignoring_duplicates(conn, issued_cards_table, rows, ISSUED_KEY)


def issued_lookup(
    db: SqlDatabase, service_id: str, card_uuids: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """Map card uuid -> (topic, card_version) for cards this service issued."""
    uuids = sorted(set(card_uuids))
    found: dict[str, tuple[str, str]] = {}
    table = issued_cards_table
    with db.lock, db.engine.connect() as conn:
        for start in range(0, len(uuids), _LOOKUP_CHUNK):
            chunk = uuids[start : start + _LOOKUP_CHUNK]
            query = select(table.c.card_uuid, table.c.topic, table.c.card_version).where(
                table.c.service_id == service_id, table.c.card_uuid.in_(chunk)
            )
            for card_uuid, topic, version in conn.execute(query):
                found[card_uuid] = (topic, version)
    return found


class IssuedWriter:
    """The queue of issued cards and the one thread that writes it.

    The thread starts at the first ``enqueue`` and stops at ``close``.
    """

    def __init__(self, db: SqlDatabase, *, flush_interval_s: float = ISSUED_FLUSH_INTERVAL_S) -> None:
        if flush_interval_s <= 0:
            raise ValueError("flush_interval_s must be positive")
        self._db = db
        self._flush_interval_s = flush_interval_s
        # Guards the queue below; the writer thread waits on it.
        self._queue = threading.Condition(threading.Lock())
        self._pending: list[IssuedCard] = []
        self._failed_attempts = 0
        self._closing = False
        self._thread: threading.Thread | None = None
        # One flush at a time, so batches reach the database in the order they were queued.
        self._flush_lock = threading.Lock()

    def enqueue(self, cards: Sequence[IssuedCard]) -> None:
        """Queue cards for the writer thread; never waits for the database.

        They are written within ``flush_interval_s`` (at once when a batch fills), and at
        the latest by ``close``. A failed write is retried at the next interval.
        """
        for card in cards:
            as_utc(card.issued_at, "issued_at")  # refuse bad input here, not in the writer
        if not cards:
            return
        with self._queue:
            if self._closing:
                raise RuntimeError("the feedback store is closed")
            self._pending.extend(cards)
            overflow = len(self._pending) - ISSUED_MAX_PENDING
            if overflow > 0:
                del self._pending[:overflow]
                log.error("issued-card queue full: dropped %d oldest records", overflow)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="feedback-issued-writer", daemon=True
                )
                self._thread.start()
            if len(self._pending) >= ISSUED_BATCH:
                self._queue.notify()

    def flush(self) -> int:
        """Write every queued issued card now, on the calling thread; return how many.

        On a database error the batch goes back to the head of the queue (dropped after
        ``ISSUED_MAX_ATTEMPTS`` failures in a row) and the error propagates.
        """
        with self._flush_lock:
            with self._queue:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                record_issued(self._db, batch)
            except Exception:
                with self._queue:
                    self._failed_attempts += 1
                    if self._failed_attempts < ISSUED_MAX_ATTEMPTS:
                        self._pending[:0] = batch
                    else:
                        self._failed_attempts = 0
                        log.error("dropped %d issued-card records after %d failed writes",
                                  len(batch), ISSUED_MAX_ATTEMPTS)
                raise
            with self._queue:
                self._failed_attempts = 0
            return len(batch)

    def flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # kept queued and retried; never kill the writer or a caller
            log.exception("could not record issued cards (kept queued for a retry)")

    def close(self) -> None:
        """Write what is queued and stop the thread. Idempotent."""
        with self._queue:
            self._closing = True
            thread = self._thread
            self._queue.notify()
        if thread is not None:
            thread.join(_WRITER_JOIN_TIMEOUT_S)
        self.flush_quietly()

    def _run(self) -> None:
        """Writer thread: write the queue once its oldest record has waited the interval
        (or a batch is full), until ``close``."""
        while True:
            with self._queue:
                while not self._pending and not self._closing:
                    self._queue.wait()
                if not self._closing and len(self._pending) < ISSUED_BATCH:
                    self._queue.wait(self._flush_interval_s)
                closing = self._closing
            if closing:
                return  # ``close`` writes what is left, on its own thread
            self.flush_quietly()
