"""The feedback store under concurrent writers: no "database is locked", no lost rows, and
issued cards queued from the web layer written in batches by one writer thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from cds_service.api.state import AppState
from cds_service.evaluate import request_from_bundle
from cds_service.state import FeedbackStore, IssuedCard
from cds_service.state.schema import issued_cards_table
from cds_service.models.feedback import FeedbackEntry, FeedbackRequest
from support import FIXTURES, load_json, make_settings, service

SERVICE = "calf-pain"
ISSUED = datetime(2026, 11, 21, 22, 40, 0, tzinfo=timezone.utc)
RECEIVED = datetime(2026, 11, 21, 22, 41, 0, tzinfo=timezone.utc)
# Long enough that the writer thread never flushes on its own during a test.
NEVER_S = 3600.0


def _issued(card_uuid: str, topic: str = "pad") -> IssuedCard:
    return IssuedCard(card_uuid, SERVICE, topic, "1.0.0", "hook-1", ISSUED)


def _feedback(*cards: str) -> list[FeedbackEntry]:
    body = {"feedback": [{"card": c, "outcome": "overridden", "outcomeTimestamp": "2026-11-21T22:40:18Z"}
                         for c in cards]}
    return FeedbackRequest.model_validate(body).feedback


def _issued_count(store: FeedbackStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(issued_cards_table)).scalar_one())


@pytest.fixture
def file_store(tmp_path: Path) -> Iterator[FeedbackStore]:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}", flush_interval_s=NEVER_S)
    store.create_schema()
    yield store
    store.close()


def test_threads_hammering_issued_and_feedback_lose_nothing(file_store: FeedbackStore) -> None:
    workers, rounds = 8, 15
    start = threading.Barrier(workers)

    def work(worker: int) -> int:
        start.wait()
        stored = 0
        for i in range(rounds):
            file_store.record_issued([_issued(f"w{worker}-{i}-a"), _issued(f"w{worker}-{i}-b")])
            file_store.enqueue_issued([_issued(f"w{worker}-{i}-q")])
            stored += file_store.record_feedback(SERVICE, _feedback(f"w{worker}-{i}-a"), RECEIVED)
        return stored

    with ThreadPoolExecutor(max_workers=workers) as pool:
        stored = list(pool.map(work, range(workers)))  # re-raises any worker's error
    file_store.flush_issued()
    assert sum(stored) == workers * rounds
    assert _issued_count(file_store) == workers * rounds * 3
    feedback = file_store.list_feedback(SERVICE)
    assert len(feedback) == workers * rounds
    # Every report was attributed: its card had been recorded before the feedback.
    assert {f.topic for f in feedback} == {"pad"}


def test_writes_begin_immediate_on_sqlite(file_store: FeedbackStore) -> None:
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    event.listen(file_store.engine, "before_cursor_execute", capture)
    try:
        file_store.record_issued([_issued("c1")])
        file_store.record_feedback(SERVICE, _feedback("c1"), RECEIVED)
    finally:
        event.remove(file_store.engine, "before_cursor_execute", capture)
    # The write lock is taken before the first write, where the busy timeout applies.
    writes = [s for s in statements if s != "SELECT"]
    assert writes == ["BEGIN IMMEDIATE", "INSERT", "BEGIN IMMEDIATE", "INSERT"]


def test_a_writer_waits_for_another_connections_write_lock(tmp_path: Path, file_store: FeedbackStore) -> None:
    other = sqlite3.connect(tmp_path / "fb.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, other.execute, args=("COMMIT",))
    release.start()
    try:
        started = time.monotonic()
        assert file_store.record_feedback(SERVICE, _feedback("c1"), RECEIVED) == 1
        assert time.monotonic() - started >= 0.25  # it waited rather than failing
    finally:
        release.join()
        other.close()


def test_queued_cards_are_written_by_the_writer_thread(tmp_path: Path) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}", flush_interval_s=0.05)
    store.create_schema()
    try:
        store.enqueue_issued([_issued("c1"), _issued("c2")])
        deadline = time.monotonic() + 5.0
        while _issued_count(store) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _issued_count(store) == 2
        assert store.flush_issued() == 0  # nothing left queued
    finally:
        store.close()


def test_feedback_sees_cards_still_queued(file_store: FeedbackStore) -> None:
    file_store.enqueue_issued([_issued("c1", "statin-muscle-symptoms")])
    assert _issued_count(file_store) == 0
    file_store.record_feedback(SERVICE, _feedback("c1"), RECEIVED)
    [stored] = file_store.list_feedback()
    assert stored.topic == "statin-muscle-symptoms"


def test_close_writes_the_queue_and_refuses_more(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fb.sqlite3'}"
    store = FeedbackStore(url, flush_interval_s=NEVER_S)
    store.create_schema()
    store.enqueue_issued([_issued("c1"), _issued("c2"), _issued("c3")])
    store.close()
    with pytest.raises(RuntimeError):
        store.enqueue_issued([_issued("c4")])
    reopened = FeedbackStore(url)
    try:
        assert _issued_count(reopened) == 3
    finally:
        reopened.close()


def test_naive_issued_at_is_refused_when_queued(file_store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="issued_at"):
        file_store.enqueue_issued([IssuedCard("c1", SERVICE, "pad", "1", "h", datetime(2026, 1, 1))])
    assert file_store.flush_issued() == 0


def test_a_failed_flush_keeps_the_batch_for_a_retry(file_store: FeedbackStore) -> None:
    failures = 1

    def fail_once(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal failures
        if statement.startswith("INSERT") and failures:
            failures -= 1
            raise OperationalError(statement, None, Exception("simulated disk I/O error"))

    file_store.enqueue_issued([_issued("c1"), _issued("c2")])
    event.listen(file_store.engine, "before_cursor_execute", fail_once)
    try:
        with pytest.raises(OperationalError):
            file_store.flush_issued()
        assert _issued_count(file_store) == 0
        assert file_store.flush_issued() == 2
    finally:
        event.remove(file_store.engine, "before_cursor_execute", fail_once)
    assert _issued_count(file_store) == 2


def test_a_batch_failing_every_attempt_is_dropped(file_store: FeedbackStore) -> None:
    def always_fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT"):
            raise OperationalError(statement, None, Exception("value refused"))

    file_store.enqueue_issued([_issued("bad")])
    event.listen(file_store.engine, "before_cursor_execute", always_fail)
    try:
        for _ in range(3):
            with pytest.raises(OperationalError):
                file_store.flush_issued()
    finally:
        event.remove(file_store.engine, "before_cursor_execute", always_fail)
    # Later records are no longer blocked behind it.
    file_store.enqueue_issued([_issued("good")])
    assert file_store.flush_issued() == 1
    with file_store.engine.connect() as conn:
        assert conn.execute(select(issued_cards_table.c.card_uuid)).scalars().all() == ["good"]


async def test_hook_calls_queue_issued_cards_without_the_thread_pool(tmp_path: Path) -> None:
    # Async, so Starlette runs the background task on the event loop, not in a pool thread.
    import inspect

    assert inspect.iscoroutinefunction(AppState.record_issued)
    settings = make_settings(tmp_path)
    request = request_from_bundle(load_json(FIXTURES / "patients" / "statin-calf-pain.json"), "calf-statin-01")
    async with service(settings) as client:
        responses = [await client.post("/cds-services/calf-pain-review", json=request) for _ in range(3)]
    uuids = {card["uuid"] for r in responses for card in r.json()["cards"]}
    assert uuids and all(r.status_code == 200 for r in responses)
    # The app's shutdown wrote the queue.
    store = FeedbackStore(settings.database_url)
    try:
        with store.engine.connect() as conn:
            stored = set(conn.execute(select(issued_cards_table.c.card_uuid)).scalars())
        assert stored == uuids
    finally:
        store.close()
