"""Reading lab results against thresholds: comparators, reference ranges, interpretation.

Precedence when deciding "low" or "above the upper limit" (clinical.md §0.5 "prefer the
lab's referenceRange or interpretation"):

1. the lab's own ``interpretation`` code when it is decisive (L/LL/LU or H/HH/HU say
   abnormal; N says normal);
2. otherwise the lab's ``referenceRange`` bound (``ref_low`` / ``ref_high``);
3. otherwise the configured threshold from ``ClinicalSettings``.

Severity tiers (K < 2.5 mmol/L, CK ≥ 10× ULN, vitamin D < 20 ng/mL) always use the
configured numbers: a reference range says where normal ends, not where danger starts.

Comparators are honoured conservatively: a rule fires only when the reported value is
*certainly* past the threshold (``<10`` ng/mL is below 20; ``>1000`` U/L is at least 1000;
``<1000`` U/L is not known to be at least 500).
"""

from __future__ import annotations

from datetime import date, datetime

from cds_service.clinical.facts import LabResult
from cds_service.clinical.findings import Evidence

LOW_CODES = frozenset({"L", "LL", "LU", "<"})
HIGH_CODES = frozenset({"H", "HH", "HU", ">"})
NORMAL_CODES = frozenset({"N"})


def certainly_below(lab: LabResult, cutoff: float) -> bool:
    """True when the true value is known to be strictly below ``cutoff``."""
    if lab.comparator in (None, "="):
        return lab.value < cutoff
    if lab.comparator == "<":
        return lab.value <= cutoff
    if lab.comparator == "<=":
        return lab.value < cutoff
    return False  # ">" / ">=": only a lower bound is known


def certainly_at_least(lab: LabResult, cutoff: float) -> bool:
    """True when the true value is known to be at least ``cutoff``."""
    if lab.comparator in (None, "=", ">", ">="):
        return lab.value >= cutoff
    return False  # "<" / "<=": only an upper bound is known


def certainly_at_most(lab: LabResult, cutoff: float) -> bool:
    """True when the true value is known to be at most ``cutoff``."""
    if lab.comparator in (None, "=", "<", "<="):
        return lab.value <= cutoff
    return False


def certainly_above(lab: LabResult, cutoff: float) -> bool:
    """True when the true value is known to be strictly above ``cutoff``."""
    if lab.comparator in (None, "="):
        return lab.value > cutoff
    if lab.comparator == ">":
        return lab.value >= cutoff
    if lab.comparator == ">=":
        return lab.value > cutoff
    return False


def is_low(lab: LabResult, default_cutoff: float) -> bool:
    """Low by interpretation, else below ``ref_low``, else below the configured cut-off."""
    code = (lab.interpretation or "").upper()
    if code in LOW_CODES:
        return True
    if code in NORMAL_CODES or code in HIGH_CODES:
        return False
    cutoff = lab.ref_low if lab.ref_low is not None else default_cutoff
    return certainly_below(lab, cutoff)


def upper_limit(lab: LabResult, default_uln: float) -> float:
    """The lab's own ULN (``referenceRange.high``), else the configured default."""
    return lab.ref_high if lab.ref_high is not None and lab.ref_high > 0 else default_uln


def is_high(lab: LabResult, default_uln: float) -> bool:
    """High by interpretation, else above ``ref_high``, else above the configured ULN."""
    code = (lab.interpretation or "").upper()
    if code in HIGH_CODES:
        return True
    if code in NORMAL_CODES or code in LOW_CODES:
        return False
    return certainly_above(lab, upper_limit(lab, default_uln))


def iso_date(when: datetime | date | None) -> str:
    """``YYYY-MM-DD`` for cards (clinicians read dates, not instants)."""
    if when is None:
        return "date unknown"
    return when.date().isoformat() if isinstance(when, datetime) else when.isoformat()


def describe(lab: LabResult) -> str:
    """The result as reported, its canonical value when the unit differs, and its date."""
    text = lab.reported
    if lab.unit and lab.unit.lower() not in lab.reported.lower():
        text += f" (= {fmt_number(lab.value)} {lab.unit})"
    return f"{text} on {iso_date(lab.effective)}"


def fmt_number(value: float) -> str:
    """Short human number: 3.1, 0.65, 1200 (no trailing zeros, no exponent)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def lab_evidence(lab: LabResult, what: str | None = None) -> Evidence:
    """An evidence row for one lab result."""
    value = lab.reported
    if lab.interpretation:
        value += f" [{lab.interpretation}]"
    return Evidence(
        what=what or lab.display,
        value=value,
        date=lab.effective,
        reference=lab.resource_ref,
    )


def lab_line(lab: LabResult | None, window_days: int) -> str:
    """A lab for card detail, or a plain statement that none is on file in the window."""
    if lab is None:
        return f"not on file (last {window_days} days)"
    return describe(lab)


def ratio_text(lab: LabResult, limit: float) -> str:
    """Multiple of a limit, rounded *down* to one decimal so 9.96x never shows as 10.0x."""
    tenths = int(lab.value * 10 // limit) if limit > 0 else 0
    text = f"{tenths // 10}.{tenths % 10}"
    return f"≥{text}" if lab.comparator in (">", ">=") else text
