"""Feedback attribution survives a crash (issue 8, hole 7): card uuids are UUIDv8 naming
their topic and version, so feedback for a card missing from ``issued_cards`` (lost when a
worker was killed before writing it) still gets its topic and version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select

from cds_service.app import create_app
from cds_service.evaluate import request_from_bundle
from cds_service.models.feedback import FeedbackRequest
from cds_service.state import FeedbackStore, IssuedCard
from cds_service.state.card_ids import CardAttribution, fingerprint, fingerprint_of, new_card_uuid
from cds_service.state.schema import issued_cards_table
from state_servers import free_loopback_port
from cds_service.pipeline import Pipeline
from support import (
    BASE_URL,
    EVALUATION_TIME,
    FIXTURES,
    ROOT,
    catalog,
    load_json,
    make_settings,
    service,
    terminology,
)

SERVICE = "calf-pain-review"
HOOK = f"/cds-services/{SERVICE}"
TOPIC = "peripheral-artery-disease"


def _request() -> dict:
    return request_from_bundle(load_json(FIXTURES / "patients" / "statin-calf-pain.json"), "calf-statin-01")


def _attribution() -> CardAttribution:
    cat = catalog()
    return CardAttribution((t, cat.card_meta(t).version) for t in cat.topics)


def _feedback(uuids: list[str]) -> dict:
    return {"feedback": [{"card": u, "outcome": "overridden", "outcomeTimestamp": "2026-11-21T12:00:00Z"}
                         for u in uuids]}


def test_card_uuids_are_rfc9562_version_8_and_carry_the_card() -> None:
    made = {new_card_uuid("pad", "1.2.0") for _ in range(200)}
    assert len(made) == 200
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (8, uuid.RFC_4122)
        assert str(parsed) == text  # canonical lower-case form
        assert fingerprint_of(text) == fingerprint("pad", "1.2.0")
    assert fingerprint_of(str(uuid.uuid4())) is None
    assert fingerprint_of("card-1") is None
    assert fingerprint_of("{" + next(iter(made)) + "}") is None


def test_every_catalogue_card_maps_back_and_others_do_not() -> None:
    attribution = _attribution()
    cat = catalog()
    for topic in cat.topics:
        version = cat.card_meta(topic).version
        assert attribution(new_card_uuid(topic, version)) == (topic, version)
    assert attribution(new_card_uuid("pad", "0.0.0-retired")) is None
    assert attribution(str(uuid.uuid4())) is None


def test_a_hash_collision_in_the_catalogue_fails_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cds_service.state.card_ids.fingerprint", lambda topic, version: 7)
    with pytest.raises(ValueError, match="collision"):
        CardAttribution([("a", "1"), ("b", "1")])


def test_feedback_for_an_unrecorded_card_is_attributed_from_its_uuid(database_url: str) -> None:
    store = FeedbackStore(database_url, attribution=_attribution())
    store.create_schema()
    plain = FeedbackStore(database_url)
    try:
        card = new_card_uuid("statin-muscle-symptoms", catalog().card_meta("statin-muscle-symptoms").version)
        entries = FeedbackRequest.model_validate(_feedback([card])).feedback
        assert store.record_feedback(SERVICE, entries, datetime.now(UTC)) == 1
        [stored] = store.list_feedback()
        assert (stored.topic, stored.card_version) == (
            "statin-muscle-symptoms", catalog().card_meta("statin-muscle-symptoms").version)
        # Without the uuid's attribution the same report would have no topic.
        other = FeedbackRequest.model_validate(
            {"feedback": [dict(_feedback([card])["feedback"][0], outcome="accepted",
                               acceptedSuggestions=[{"id": "x"}])]}).feedback
        plain.record_feedback(SERVICE, other, datetime.now(UTC))
        assert {f.outcome: f.topic for f in plain.list_feedback()}["accepted"] is None
    finally:
        store.close()
        plain.close()


async def test_the_service_attributes_cards_missing_from_issued_cards(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, pipeline=Pipeline(settings, terminology(), catalog()))
    store = app.state.cds.feedback_store
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        response = await client.post(HOOK, json=_request())
        cards = response.json()["cards"]
        assert cards
        store.flush_issued()
        with store.engine.begin() as conn:
            conn.execute(delete(issued_cards_table))  # as if the worker had died first
        answer = await client.post(f"{HOOK}/feedback", json=_feedback([c["uuid"] for c in cards]))
        assert answer.json() == {"received": len(cards), "stored": len(cards)}
        stored = {f.card_uuid: (f.topic, f.card_version) for f in store.list_feedback()}
    cat = catalog()
    for card in cards:
        topic = card["source"]["topic"]["code"]
        assert stored[card["uuid"]] == (topic, cat.card_meta(topic).version)


def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2, trust_env=False)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not start")


async def test_feedback_attribution_survives_kill_9_mid_load(tmp_path: Path) -> None:
    db_file = tmp_path / "state.sqlite3"
    port = free_loopback_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CALF_CDS_DATABASE_URL": f"sqlite:///{db_file}",
           "CALF_CDS_EVALUATION_TIME": EVALUATION_TIME.isoformat(), "CALF_CDS_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "cds_service", "serve", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    returned: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    body = _request()

    def load() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False) as http:
            while not stop.is_set():
                try:
                    response = http.post(HOOK, json=body)
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        returned.extend(card["uuid"] for card in response.json()["cards"])

    try:
        _wait_until_serving(port, process)
        threads = [threading.Thread(target=load) for _ in range(8)]
        for thread in threads:
            thread.start()
        while len(returned) < 600 and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)  # mid-load: requests are still in flight
        process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(15)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert len(returned) >= 600
    settings = make_settings(tmp_path, database_url=f"sqlite:///{db_file}")
    with FeedbackStore(settings.database_url) as reader:
        with reader.engine.connect() as conn:
            recorded = set(conn.execute(select(issued_cards_table.c.card_uuid)).scalars())
    missing = set(returned) - recorded
    async with service(settings) as client:
        # The crash really lost records (the queue of the last interval): what this guards.
        assert missing, "every issued card had been written; the kill came too late to test"
        for start in range(0, len(returned), 100):
            chunk = returned[start : start + 100]
            answer = await client.post(f"{HOOK}/feedback", json=_feedback(chunk))
            assert answer.json()["stored"] == len(set(chunk))
    with FeedbackStore(settings.database_url) as reader:
        feedback = reader.list_feedback(SERVICE)
    assert len(feedback) == len(set(returned))
    unattributed = [f.card_uuid for f in feedback if f.topic is None or f.card_version is None]
    assert unattributed == []


def test_metrics_attribution_also_reads_the_uuid(tmp_path: Path) -> None:
    version = catalog().card_meta(TOPIC).version
    recorded, lost = new_card_uuid(TOPIC, version), new_card_uuid(TOPIC, version)
    with FeedbackStore(f"sqlite:///{tmp_path / 's.sqlite3'}", attribution=_attribution()) as store:
        store.create_schema()
        store.record_issued([IssuedCard(recorded, SERVICE, TOPIC, version, "h", datetime.now(UTC))])
        found = store.card_attribution(SERVICE, [recorded, lost, "not-ours"])
    assert found == {recorded: (TOPIC, version), lost: (TOPIC, version)}


def test_random_pool_refills_and_is_not_shared_with_a_forked_child() -> None:
    """The random part comes from a pooled CSPRNG draw: uuids stay unique across refills,
    and a forked worker never repeats the uuids its parent is about to issue."""
    import os

    made = [new_card_uuid("pad", "1.2.0") for _ in range(1_000)]  # about 3 pool refills
    assert len(set(made)) == 1_000
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next uuid, then leave without pytest's teardown
        os.write(write_end, new_card_uuid("pad", "1.2.0").encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    child = os.read(read_end, 64).decode()
    os.close(read_end)
    assert child and child != new_card_uuid("pad", "1.2.0")
