"""Card uuids that carry their own attribution (UUIDv8, RFC 9562 §5.8).

Feedback names a card only by its ``uuid`` (CDS Hooks 2.0.1 "Feedback"). The issued-card
record written after the response can be lost when a worker is killed (issue 8, hole 7:
90 of 7,884 uuids returned before a ``kill -9`` were never recorded). So the uuid itself
says which card it was: its first 32 bits are a hash of the card's topic and version, the
rest is random (90 bits, RFC 9562's version and variant bits set). Feedback for a uuid
missing from ``issued_cards`` is attributed by looking that hash up in the loaded
catalogue. A card whose version has changed since it was issued is attributed only
through ``issued_cards`` (the old version is no longer in the catalogue).

The hash is not a secret and not a signature: an authenticated client could craft a uuid
naming a topic, exactly as it could send feedback about any card it was shown.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from functools import lru_cache

_VERSION = 8
# Random bytes are drawn from the OS CSPRNG 4 KiB at a time and used once each (one
# getrandom call per ~340 cards instead of one per card); a forked child starts afresh.
_POOL_BYTES = 4096
_pool = bytearray()


def _clear_pool() -> None:
    _pool.clear()


os.register_at_fork(after_in_child=_clear_pool)


def _random_bytes(n: int) -> bytes:
    if len(_pool) < n:
        _pool[:] = os.urandom(_POOL_BYTES)
    out = bytes(_pool[-n:])
    del _pool[-n:]
    return out


@lru_cache(maxsize=256)
def fingerprint(topic: str, version: str) -> int:
    """32-bit hash of a card's topic and version (first 4 bytes of SHA-256)."""
    digest = hashlib.sha256(f"{topic}\n{version}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def new_card_uuid(topic: str, version: str) -> str:
    """A fresh UUIDv8 for one rendered card of ``topic`` at ``version``."""
    raw = bytearray(fingerprint(topic, version).to_bytes(4, "big") + _random_bytes(12))
    raw[6] = (raw[6] & 0x0F) | (_VERSION << 4)
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant (10xx)
    return str(uuid.UUID(bytes=bytes(raw)))


def fingerprint_of(card_uuid: str) -> int | None:
    """The topic/version hash inside one of our uuids, or None for any other string."""
    if len(card_uuid) != 36:
        return None
    try:
        parsed = uuid.UUID(card_uuid)
    except ValueError:
        return None
    if parsed.version != _VERSION or parsed.variant != uuid.RFC_4122:
        return None
    return int.from_bytes(parsed.bytes[:4], "big")


class CardAttribution:
    """Maps a card uuid back to (topic, version) for the cards of one catalogue."""

    def __init__(self, cards: Iterable[tuple[str, str]]) -> None:
        self._by_fingerprint: dict[int, tuple[str, str]] = {}
        for topic, version in cards:
            key = fingerprint(topic, version)
            other = self._by_fingerprint.get(key)
            if other is not None and other != (topic, version):
                # 32 bits over a few dozen cards: never seen, but never silently wrong.
                raise ValueError(f"card uuid hash collision: {other} and {(topic, version)}")
            self._by_fingerprint[key] = (topic, version)

    def new_uuid(self, topic: str, version: str) -> str:
        return new_card_uuid(topic, version)

    def __call__(self, card_uuid: str) -> tuple[str, str] | None:
        key = fingerprint_of(card_uuid)
        return None if key is None else self._by_fingerprint.get(key)
