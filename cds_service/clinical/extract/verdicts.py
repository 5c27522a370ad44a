"""VerdictCache: structure-check verdicts remembered by a resource's exact JSON bytes.

EHRs send the same resources again every time a chart is opened; checking identical bytes
gives the identical verdict, so it is done once. Bounded in entries and in bytes: a
resource larger than ``MAX_ENTRY_BYTES`` is checked every time and not remembered (its key
would be its whole JSON), and the cache is cleared when its keys pass ``max_bytes`` or
its entries pass ``size``. Without the byte bounds, 4,096 entries of 8 MB bodies' worth of
narrative would have been kept across calls.
"""

from __future__ import annotations

# A FHIR resource the rules read is a few KB; Synthea's largest Patient (narrative,
# extensions) is under 10 KB.
MAX_ENTRY_BYTES = 64 * 1024
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


class VerdictCache:
    def __init__(self, size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._verdicts: dict[bytes, bool] = {}

    def get(self, raw: bytes) -> bool | None:
        return self._verdicts.get(raw)

    def put(self, raw: bytes, verdict: bool) -> None:
        if self.size <= 0 or len(raw) > MAX_ENTRY_BYTES:
            return
        if len(self._verdicts) >= self.size or self.bytes + len(raw) > self.max_bytes:
            self._verdicts.clear()
            self.bytes = 0
        if raw not in self._verdicts:
            self.bytes += len(raw)
        self._verdicts[raw] = verdict

    def __len__(self) -> int:
        return len(self._verdicts)
