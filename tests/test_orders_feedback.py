"""Feedback on calf-safe-prescribing cards is stored like the others: accepting a suggestion
is recorded under the service, and the card is attributed to its rx-* topic (from the
UUIDv8 card id even when the issued-card record is not there) in the metrics."""

from __future__ import annotations

from pathlib import Path

from cds_service.state.card_ids import fingerprint, fingerprint_of
from orders_support import MANIFEST, SERVICE, with_prefetch
from support import catalog, make_settings, service

ENTRY = next(e for e in MANIFEST if e["patientId"] == "rx-simva-clari-01")


async def test_accepted_suggestion_on_an_order_card_is_stored_and_attributed(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        [card] = (await client.post(SERVICE, json=with_prefetch(ENTRY))).json()["cards"]
        topic = card["source"]["topic"]["code"]
        assert fingerprint_of(card["uuid"]) == fingerprint(topic, catalog().card_meta(topic).version)
        switch = next(s for s in card["suggestions"] if s["actions"][0]["type"] == "update")
        feedback = {"feedback": [{"card": card["uuid"], "outcome": "accepted",
                                  "acceptedSuggestions": [{"id": switch["uuid"]}],
                                  "outcomeTimestamp": "2026-11-21T12:00:00Z"}]}
        first = await client.post(f"{SERVICE}/feedback", json=feedback)
        again = await client.post(f"{SERVICE}/feedback", json=feedback)
        metrics = (await client.get("/metrics")).text
    assert first.json() == {"received": 1, "stored": 1}
    assert again.json() == {"received": 1, "stored": 0}
    line = next(m for m in metrics.splitlines()
                if m.startswith("calf_cds_feedback_total{") and 'topic="rx-statin-interaction"' in m)
    assert 'service="calf-safe-prescribing"' in line and 'outcome="accepted"' in line
