"""Feedback wire model (CDS Hooks 2.0.1 "Feedback", checklist F1-F2) and its durable store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateTable

from cds_service.state import FeedbackStore, IssuedCard
from cds_service.state.schema import UtcDateTime, feedback_table, issued_cards_table
from cds_service.state.sql import insert_checking_first
from cds_service.models.feedback import (
    MAX_COMMENT_LENGTH,
    MAX_FEEDBACK_ENTRIES,
    MAX_ID_LENGTH,
    FeedbackEntry,
    FeedbackRequest,
    parse_rfc3339,
)

EXAMPLES = Path(__file__).resolve().parent / "vectors"
SPEC_FILES = sorted((EXAMPLES / "spec-2.0").glob("feedback-*.json"))
SANDBOX_FILES = sorted((EXAMPLES / "sandbox-client").glob("feedback-*.http.json"))
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "cds_service" / "data" / "schemas" / "feedback-request.schema.json"

RECEIVED = datetime(2026, 11, 21, 22, 41, 0, tzinfo=timezone.utc)
ISSUED = datetime(2026, 11, 21, 22, 40, 0, tzinfo=timezone.utc)
SERVICE = "calf-pain"


def _body(path: Path) -> dict[str, Any]:
    """The feedback POST body of a spec example or a sandbox HTTP capture."""
    data = json.loads(path.read_text())
    return data["body"] if path.name.endswith(".http.json") else data


def _schema() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _entry(
    card: Any = "card-1",
    outcome: str = "overridden",
    timestamp: Any = "2026-11-21T22:40:18.399Z",
    **extra: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"card": card, "outcome": outcome, "outcomeTimestamp": timestamp}
    if outcome == "accepted" and "acceptedSuggestions" not in extra:
        entry["acceptedSuggestions"] = [{"id": "sugg-1"}]
    entry.update(extra)
    return entry


def _entries(*entries: dict[str, Any]) -> list[FeedbackEntry]:
    return FeedbackRequest.model_validate({"feedback": list(entries)}).feedback


def _issued(
    card_uuid: str, topic: str, version: str = "1.0.0", service: str = SERVICE
) -> IssuedCard:
    return IssuedCard(
        card_uuid=card_uuid,
        service_id=service,
        topic=topic,
        card_version=version,
        hook_instance="d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        issued_at=ISSUED,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[FeedbackStore]:
    """An empty store on each database (PostgreSQL: a real server, see state_servers)."""
    if request.param == "sqlite":
        url = "sqlite://"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    s = FeedbackStore(url)
    s.create_schema()
    yield s
    s.close()


# --------------------------------------------------------------------------- wire model


def test_example_files_are_present() -> None:
    # Guards the parametrised tests below against silently running on nothing.
    assert len(SPEC_FILES) == 3
    assert len(SANDBOX_FILES) == 3


@pytest.mark.parametrize("path", SPEC_FILES + SANDBOX_FILES, ids=lambda p: p.name)
def test_every_example_parses_and_matches_the_derived_schema(path: Path) -> None:
    body = _body(path)
    _schema().validate(body)
    parsed = FeedbackRequest.model_validate(body)
    # The JSON route (what FastAPI/orjson hand over) must agree with the dict route.
    assert FeedbackRequest.model_validate_json(json.dumps(body)) == parsed
    assert len(parsed.feedback) == len(body["feedback"])
    for raw, entry in zip(body["feedback"], parsed.feedback, strict=True):
        assert entry.card == raw["card"]
        assert entry.outcome == raw["outcome"]
        expected = datetime.fromisoformat(raw["outcomeTimestamp"].replace("Z", "+00:00"))
        assert entry.outcomeTimestamp == expected
        assert entry.outcomeTimestamp.tzinfo == timezone.utc
        assert list(entry.accepted_suggestion_ids) == [
            s["id"] for s in raw.get("acceptedSuggestions", [])
        ]


def test_sandbox_override_reason_without_display_is_accepted() -> None:
    body = _body(EXAMPLES / "sandbox-client" / "feedback-overridden-with-reason.http.json")
    assert "display" not in body["feedback"][0]["overrideReason"]["reason"]
    entry = FeedbackRequest.model_validate(body).feedback[0]
    assert entry.overrideReason is not None and entry.overrideReason.reason is not None
    assert entry.overrideReason.reason.code == "r1"
    assert entry.overrideReason.reason.system == "http://example.org/override"
    assert entry.overrideReason.reason.display is None


def test_unknown_fields_and_extension_are_kept() -> None:
    body = {
        "feedback": [
            _entry(
                extension={"com.example.reviewer": "x"},
                **{"com.example.flag": True},
                overrideReason={"userComment": "n/a", "extension": {"com.example.y": 1}},
            )
        ],
        "extension": {"com.example.batch": 7},
    }
    parsed = FeedbackRequest.model_validate(body)
    entry = parsed.feedback[0]
    assert entry.extension == {"com.example.reviewer": "x"}
    assert entry.model_extra == {"com.example.flag": True}
    assert parsed.model_extra == {"extension": {"com.example.batch": 7}}
    assert entry.overrideReason is not None
    assert entry.overrideReason.extension == {"com.example.y": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-12-11T10:05:31Z", datetime(2021, 12, 11, 10, 5, 31, tzinfo=timezone.utc)),
        ("2021-12-11t10:05:31z", datetime(2021, 12, 11, 10, 5, 31, tzinfo=timezone.utc)),
        ("2021-12-11T12:05:31+02:00", datetime(2021, 12, 11, 10, 5, 31, tzinfo=timezone.utc)),
        ("2021-12-11T00:30:00-05:30", datetime(2021, 12, 11, 6, 0, 0, tzinfo=timezone.utc)),
        (
            "2026-11-21T22:40:16.720Z",
            datetime(2026, 11, 21, 22, 40, 16, 720000, tzinfo=timezone.utc),
        ),
        # Finer than microseconds: truncated, never rounded into the next second.
        (
            "2021-12-11T10:05:31.999999999Z",
            datetime(2021, 12, 11, 10, 5, 31, 999999, tzinfo=timezone.utc),
        ),
        # RFC 3339 leap second: kept inside the same minute.
        (
            "2016-12-31T23:59:60Z",
            datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        ),
    ],
)
def test_outcome_timestamp_is_rfc3339_normalised_to_utc(text: str, expected: datetime) -> None:
    entry = FeedbackRequest.model_validate({"feedback": [_entry(timestamp=text)]}).feedback[0]
    assert entry.outcomeTimestamp == expected
    assert entry.outcomeTimestamp.utcoffset() == timedelta(0)


def test_aware_datetime_object_is_accepted_and_naive_refused() -> None:
    cet = timezone(timedelta(hours=1))
    assert parse_rfc3339(datetime(2021, 1, 1, 1, 0, tzinfo=cet)) == datetime(
        2021, 1, 1, 0, 0, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError, match="offset"):
        parse_rfc3339(datetime(2021, 1, 1, 1, 0))


def test_empty_feedback_array_is_a_no_op(store: FeedbackStore) -> None:
    parsed = FeedbackRequest.model_validate({"feedback": []})
    assert parsed.feedback == []
    assert store.record_feedback(SERVICE, parsed.feedback, RECEIVED) == 0
    assert store.list_feedback() == []


def test_batch_at_the_entry_limit_is_accepted() -> None:
    body = {"feedback": [_entry(card=f"c{i}") for i in range(MAX_FEEDBACK_ENTRIES)]}
    assert len(FeedbackRequest.model_validate(body).feedback) == MAX_FEEDBACK_ENTRIES


def _without(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != key}


# (body, whether the derived JSON schema rejects it too). Bounds, naive timestamps and
# calendar errors are beyond what the schema can express without a format checker.
REJECTED: dict[str, tuple[Any, bool]] = {
    "missing card": ({"feedback": [_without(_entry(), "card")]}, True),
    "empty card": ({"feedback": [_entry(card="")]}, True),
    "card is a number": ({"feedback": [_entry(card=123)]}, True),
    "card too long": ({"feedback": [_entry(card="x" * (MAX_ID_LENGTH + 1))]}, False),
    "missing outcome": ({"feedback": [_without(_entry(), "outcome")]}, True),
    "bad outcome": ({"feedback": [_entry(outcome="ignored")]}, True),
    "accepted without acceptedSuggestions": (
        {"feedback": [_without(_entry(outcome="accepted"), "acceptedSuggestions")]},
        True,
    ),
    "accepted with empty acceptedSuggestions": (
        {"feedback": [_entry(outcome="accepted", acceptedSuggestions=[])]},
        True,
    ),
    "suggestion id is a number": (
        {"feedback": [_entry(outcome="accepted", acceptedSuggestions=[{"id": 5}])]},
        True,
    ),
    "suggestion without id": (
        {"feedback": [_entry(outcome="accepted", acceptedSuggestions=[{}])]},
        True,
    ),
    "missing outcomeTimestamp": ({"feedback": [_without(_entry(), "outcomeTimestamp")]}, True),
    "naive timestamp": ({"feedback": [_entry(timestamp="2021-12-11T10:05:31")]}, False),
    "date only": ({"feedback": [_entry(timestamp="2021-12-11")]}, False),
    "space separator": ({"feedback": [_entry(timestamp="2021-12-11 10:05:31Z")]}, False),
    "impossible date": ({"feedback": [_entry(timestamp="2021-02-30T10:05:31Z")]}, False),
    "offset out of range": ({"feedback": [_entry(timestamp="2021-12-11T10:05:31+24:00")]}, False),
    "non-ASCII digits": ({"feedback": [_entry(timestamp="٢٠٢١-12-11T10:05:31Z")]}, False),
    "timestamp is a number": ({"feedback": [_entry(timestamp=1639217131)]}, True),
    "reason without system": (
        {"feedback": [_entry(overrideReason={"reason": {"code": "r1"}})]},
        True,
    ),
    "reason code is a number": (
        {"feedback": [_entry(overrideReason={"reason": {"code": 1, "system": "http://x"}})]},
        True,
    ),
    "empty overrideReason": ({"feedback": [_entry(overrideReason={})]}, True),
    "comment too long": (
        {"feedback": [_entry(overrideReason={"userComment": "x" * (MAX_COMMENT_LENGTH + 1)})]},
        False,
    ),
    "extension not an object": ({"feedback": [_entry(extension=["a"])]}, True),
    "too many entries": (
        {"feedback": [_entry(card=f"c{i}") for i in range(MAX_FEEDBACK_ENTRIES + 1)]},
        False,
    ),
    "feedback not an array": ({"feedback": _entry()}, True),
    "feedback missing": ({"cards": []}, True),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_invalid_bodies_are_rejected(case: str) -> None:
    body, schema_rejects = REJECTED[case]
    with pytest.raises(ValidationError):
        FeedbackRequest.model_validate(body)
    with pytest.raises(ValidationError):
        FeedbackRequest.model_validate_json(json.dumps(body))
    # Where the derived schema can express the rule, it must agree with the model.
    assert (not _schema().is_valid(body)) is schema_rejects


# --------------------------------------------------------------------------- store


def test_feedback_round_trips_all_fields(store: FeedbackStore) -> None:
    entries = _entries(
        _entry(
            card="c-over",
            timestamp="2026-11-21T23:40:18.399+01:00",
            overrideReason={
                "reason": {"code": "r1", "system": "http://example.org/override", "display": "No"},
                "userComment": "Already on it",
            },
        ),
        _entry(
            card="c-acc",
            outcome="accepted",
            acceptedSuggestions=[{"id": "s1"}, {"id": "s2"}],
        ),
    )
    assert store.record_feedback(SERVICE, entries, RECEIVED) == 2
    over, acc = store.list_feedback()
    assert (over.card_uuid, over.outcome, over.service_id) == ("c-over", "overridden", SERVICE)
    assert (over.override_code, over.override_system, over.override_display) == (
        "r1",
        "http://example.org/override",
        "No",
    )
    assert over.user_comment == "Already on it"
    assert over.accepted_suggestions == ()
    assert over.outcome_timestamp == datetime(
        2026, 11, 21, 22, 40, 18, 399000, tzinfo=timezone.utc
    )
    assert over.received_at == RECEIVED
    assert acc.accepted_suggestions == ("s1", "s2")
    assert acc.override_code is None and acc.user_comment is None


def test_repeats_are_stored_once(store: FeedbackStore) -> None:
    batch = _entries(_entry(card="c1"), _entry(card="c2", outcome="accepted"))
    assert store.record_feedback(SERVICE, batch, RECEIVED) == 2
    assert store.record_feedback(SERVICE, batch, RECEIVED + timedelta(seconds=5)) == 0
    # The same instant written with another offset is the same report.
    same_instant = _entries(_entry(card="c1", timestamp="2026-11-21T23:40:18.399+01:00"))
    assert store.record_feedback(SERVICE, same_instant, RECEIVED) == 0
    # Repeats inside one batch count once.
    twice = _entries(_entry(card="c3"), _entry(card="c3"))
    assert store.record_feedback(SERVICE, twice, RECEIVED) == 1
    assert sorted(f.card_uuid for f in store.list_feedback()) == ["c1", "c2", "c3"]


def test_distinct_reports_of_the_same_card_are_all_kept(store: FeedbackStore) -> None:
    first = _entries(_entry(card="c1"))
    assert store.record_feedback(SERVICE, first, RECEIVED) == 1
    later = _entries(_entry(card="c1", timestamp="2026-11-21T22:45:00Z"))
    other_outcome = _entries(_entry(card="c1", outcome="accepted"))
    assert store.record_feedback(SERVICE, later, RECEIVED) == 1
    assert store.record_feedback(SERVICE, other_outcome, RECEIVED) == 1
    assert store.record_feedback("other-service", first, RECEIVED) == 1
    assert len(store.list_feedback()) == 4
    assert len(store.list_feedback(SERVICE)) == 3
    assert [f.service_id for f in store.list_feedback("other-service")] == ["other-service"]


def test_topic_and_version_come_from_issued_cards(store: FeedbackStore) -> None:
    store.record_issued(
        [
            _issued("c-statin", "statin-myopathy", "2.1.0"),
            _issued("c-foreign", "dvt-red-flags", service="another-service"),
        ]
    )
    entries = _entries(_entry(card="c-statin"), _entry(card="c-unknown"), _entry(card="c-foreign"))
    store.record_feedback(SERVICE, entries, RECEIVED)
    by_card = {f.card_uuid: f for f in store.list_feedback()}
    assert (by_card["c-statin"].topic, by_card["c-statin"].card_version) == (
        "statin-myopathy",
        "2.1.0",
    )
    assert (by_card["c-unknown"].topic, by_card["c-unknown"].card_version) == (None, None)
    # A card issued by another service is not attributed to this one's topics.
    assert by_card["c-foreign"].topic is None


def test_record_issued_is_insert_or_ignore(store: FeedbackStore) -> None:
    store.record_issued([_issued("c1", "statin-myopathy", "1.0.0")])
    store.record_issued([_issued("c1", "pad", "9.9.9"), _issued("c2", "pad")])
    store.record_issued([])
    with store.engine.connect() as conn:
        rows = dict(
            conn.execute(select(issued_cards_table.c.card_uuid, issued_cards_table.c.topic)).all()
        )
    assert rows == {"c1": "statin-myopathy", "c2": "pad"}


def test_naive_datetimes_are_refused(store: FeedbackStore) -> None:
    entries = _entries(_entry())
    with pytest.raises(ValueError, match="received_at"):
        store.record_feedback(SERVICE, entries, datetime(2026, 1, 1))
    naive_card = IssuedCard("c1", SERVICE, "pad", "1", "h", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="issued_at"):
        store.record_issued([naive_card])
    assert store.list_feedback() == []


def test_outcome_counts_per_topic(store: FeedbackStore) -> None:
    store.record_issued(
        [_issued("s1", "statin-myopathy"), _issued("s2", "statin-myopathy"), _issued("p1", "pad")]
    )
    entries = _entries(
        _entry(card="s1", outcome="accepted"),
        _entry(card="s1", outcome="overridden"),
        _entry(card="s2", outcome="overridden"),
        _entry(card="p1", outcome="accepted"),
        _entry(card="unknown", outcome="overridden"),
    )
    store.record_feedback(SERVICE, entries, RECEIVED)
    store.record_feedback("other-service", _entries(_entry(card="x")), RECEIVED)
    assert store.outcome_counts(SERVICE) == {
        "statin-myopathy": {"accepted": 1, "overridden": 2},
        "pad": {"accepted": 1, "overridden": 0},
        None: {"accepted": 0, "overridden": 1},
    }
    assert store.outcome_counts()[None] == {"accepted": 0, "overridden": 2}


def test_feedback_survives_a_restart(tmp_path: Path) -> None:
    db_file = tmp_path / "nested" / "dir" / "feedback.sqlite3"
    first = FeedbackStore(f"sqlite:///{db_file}")
    first.create_schema()
    first.record_issued([_issued("c1", "pad")])
    first.record_feedback(SERVICE, _entries(_entry(card="c1")), RECEIVED)
    first.close()
    assert db_file.exists()

    second = FeedbackStore(f"sqlite:///{db_file}")
    second.create_schema()  # idempotent on an existing database
    try:
        [stored] = second.list_feedback()
        assert (stored.card_uuid, stored.topic) == ("c1", "pad")
        assert stored.received_at == RECEIVED
        # Idempotency holds across restarts too.
        assert second.record_feedback(SERVICE, _entries(_entry(card="c1")), RECEIVED) == 0
        with second.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
    finally:
        second.close()


def test_failing_batch_is_rolled_back_and_keeps_earlier_rows(
    store: FeedbackStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.record_feedback(SERVICE, _entries(_entry(card="kept")), RECEIVED) == 1
    # One row per INSERT statement, so the failure below lands mid-batch.
    monkeypatch.setattr("cds_service.state.sql._INSERT_PAGE", 1)
    feedback_inserts = 0

    def fail_on_second_insert(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal feedback_inserts
        if statement.lstrip().upper().startswith("INSERT") and "feedback" in statement:
            feedback_inserts += 1
            if feedback_inserts == 2:
                raise OperationalError(statement, None, Exception("simulated disk I/O error"))

    event.listen(store.engine, "before_cursor_execute", fail_on_second_insert)
    try:
        batch = _entries(_entry(card="lost-1"), _entry(card="lost-2"), _entry(card="lost-3"))
        with pytest.raises(OperationalError):
            store.record_feedback(SERVICE, batch, RECEIVED)
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_on_second_insert)
    assert feedback_inserts == 2  # the first row of the batch had been written
    assert [f.card_uuid for f in store.list_feedback()] == ["kept"]
    # The store is still usable, and the failed batch can be resent in full.
    assert store.record_feedback(SERVICE, batch, RECEIVED) == 3


def test_invalid_body_never_reaches_the_store(store: FeedbackStore) -> None:
    store.record_feedback(SERVICE, _entries(_entry(card="kept")), RECEIVED)
    bad = {"feedback": [_entry(card="new"), _entry(card="bad", outcome="maybe")]}
    with pytest.raises(ValidationError):
        FeedbackRequest.model_validate(bad)
    assert [f.card_uuid for f in store.list_feedback()] == ["kept"]


def test_concurrent_writers_from_a_thread_pool(database_url: str) -> None:
    s = FeedbackStore(database_url)
    s.create_schema()
    start = threading.Barrier(4)

    def post(worker: int) -> int:
        start.wait()
        # Every worker also resends worker 0's report: exactly one copy may survive.
        batch = _entries(*(_entry(card=f"w{worker}-{i}") for i in range(10)), _entry(card="w0-0"))
        return s.record_feedback(SERVICE, batch, RECEIVED)

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            inserted = list(pool.map(post, range(4)))
        assert sum(inserted) == 40
        assert len({f.card_uuid for f in s.list_feedback()}) == 40
    finally:
        s.close()


def test_in_memory_store_is_shared_across_threads(store: FeedbackStore) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(
            pool.map(
                lambda i: store.record_feedback(SERVICE, _entries(_entry(card=f"m{i}")), RECEIVED),
                range(3),
            )
        )
    assert sorted(f.card_uuid for f in store.list_feedback()) == ["m0", "m1", "m2"]


def test_check_then_insert_fallback_skips_duplicates(store: FeedbackStore) -> None:
    row = {
        "service_id": SERVICE,
        "card_uuid": "c1",
        "outcome": "overridden",
        "outcome_timestamp": RECEIVED,
        "received_at": RECEIVED,
    }
    # The same instant with another offset: the column type normalises it to UTC.
    same_instant = dict(row, outcome_timestamp=RECEIVED.astimezone(timezone(timedelta(hours=2))))
    key = ("service_id", "card_uuid", "outcome", "outcome_timestamp")
    with store.engine.begin() as conn:
        assert insert_checking_first(conn, feedback_table, [row, same_instant], key) == 1
    with store.engine.begin() as conn:
        assert insert_checking_first(conn, feedback_table, [row], key) == 0
    assert len(store.list_feedback()) == 1


def test_schema_and_upsert_compile_for_postgresql() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    ddl = str(CreateTable(feedback_table).compile(dialect=dialect))
    assert "TIMESTAMP WITH TIME ZONE" in ddl
    assert "UNIQUE (service_id, card_uuid, outcome, outcome_timestamp)" in ddl
    statement = postgresql.insert(feedback_table).on_conflict_do_nothing()
    assert "ON CONFLICT DO NOTHING" in str(statement.compile(dialect=dialect))
    # PostgreSQL keeps the offset: the bound value stays aware, in UTC.
    cet = timezone(timedelta(hours=1))
    bound = UtcDateTime().process_bind_param(datetime(2021, 1, 1, 1, tzinfo=cet), dialect)
    assert bound == datetime(2021, 1, 1, 0, tzinfo=timezone.utc)
    assert bound is not None and bound.tzinfo is not None
