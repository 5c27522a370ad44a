"""``POST /feedback`` answers an exact ``stored`` count on every database (PostgreSQL's
driver once made it answer ``"stored": -1``), through the real app."""

from __future__ import annotations

from pathlib import Path

from support import make_settings, service

FEEDBACK = "/cds-services/calf-pain-review/feedback"


def _body(*cards: str) -> dict:
    return {"feedback": [{"card": c, "outcome": "overridden", "outcomeTimestamp": "2026-11-21T12:00:00Z"}
                         for c in cards]}


async def test_stored_counts_exactly_what_was_new(tmp_path: Path, database_url: str) -> None:
    async with service(make_settings(tmp_path, database_url=database_url)) as client:
        first = await client.post(FEEDBACK, json=_body("a", "b", "c"))
        assert first.json() == {"received": 3, "stored": 3}
        again = await client.post(FEEDBACK, json=_body("a", "b", "c"))
        assert again.json() == {"received": 3, "stored": 0}
        mixed = await client.post(FEEDBACK, json=_body("c", "d", "d", "e"))
        assert mixed.json() == {"received": 4, "stored": 2}
