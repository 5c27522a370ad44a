"""Order groups of draft ServiceRequests and DeviceRequests: compression therapy.

No verified code list for compression hosiery or bandaging was found (clinical.md has
none; SNOMED CT and HCPCS product codes vary by site), so orders are recognised by a
word-boundary match of their code text and displays, like the ankle-brachial index
(clinical.md §2.6). Anti-embolism ("TED") stockings, graduated compression hosiery,
multilayer compression bandaging and intermittent pneumatic compression all count: NICE
NG89 §1.3 lists suspected or proven peripheral arterial disease as a reason not to offer
anti-embolism stockings, and compression bandaging needs an ABPI of at least 0.8 (NICE CKS
"Leg ulcer - venous", SIGN 120).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

COMPRESSION = "compression"  # compression stockings, hosiery, bandaging, pneumatic devices

_COMPRESSION = re.compile(
    r"(?<![a-z])("
    r"compression\s+(stocking|stockings|hosiery|bandag\w*|garment\w*|wrap\w*|sock\w*|therapy|device)"
    r"|(anti-?embolism|antiembolic|ted|graduated|elastic)\s+(stocking|stockings|hose|hosiery)"
    r"|(multi-?layer|short-?stretch|compressive)\s+bandag\w*"
    r"|intermittent\s+pneumatic\s+compression"
    r")(?![a-z])",
    re.I,
)


def order_groups(codings: Iterable[Mapping[str, Any]], texts: Iterable[str | None]) -> frozenset[str]:
    """The order groups of one order concept (its text and its codings' displays)."""
    words = [t for t in texts if isinstance(t, str)]
    words += [c["display"] for c in codings if isinstance(c.get("display"), str)]
    if any(_COMPRESSION.search(w) for w in words):
        return frozenset({COMPRESSION})
    return frozenset()
