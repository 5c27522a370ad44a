"""Shared helpers over conditions, medications and procedures in :class:`PatientFacts`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from cds_service.clinical.facts import ClinicalFinding, MedicationFact, ProcedureFact
from cds_service.clinical.findings import Evidence


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _aware(when: datetime) -> datetime:
    # Extraction should give aware datetimes; a naive one is read as UTC rather than
    # letting a mixed subtraction raise in the middle of a hook call.
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def age_days(now: datetime, when: datetime) -> int:
    """Whole days from ``when`` to ``now`` (negative when ``when`` is in the future)."""
    return (_aware(now) - _aware(when)).days


def within_days(now: datetime, when: datetime | None, days: int) -> bool:
    """True when ``when`` is known and no more than ``days`` before ``now``."""
    return when is not None and age_days(now, when) <= days


def is_current(finding: ClinicalFinding, now: datetime) -> bool:
    """Active and not abated before ``now`` (clinical.md §0.3)."""
    if not finding.active:
        return False
    return finding.abatement is None or age_days(now, finding.abatement) < 0


def latest_date(finding: ClinicalFinding) -> datetime | None:
    """The newest of onset and recorded date: a recently recorded entry is recent news."""
    dates = [d for d in (finding.onset, finding.recorded) if d is not None]
    return max(dates, key=_aware) if dates else None


def newest(findings: list[ClinicalFinding]) -> list[ClinicalFinding]:
    """The newest entry only (each fact once on the card); undated entries come last."""
    if not findings:
        return []
    dated = [f for f in findings if latest_date(f) is not None]
    if not dated:
        return findings[:1]
    return [max(dated, key=lambda f: _aware(latest_date(f) or _EPOCH))]


def current_in(findings: Iterable[ClinicalFinding], now: datetime) -> list[ClinicalFinding]:
    """The current (active, unabated) findings of an iterable."""
    return [f for f in findings if is_current(f, now)]


def medication_text(med: MedicationFact) -> str:
    """Medication as charted, with its dose instructions when they add anything."""
    if med.dose_text and med.dose_text.lower() not in med.display.lower():
        return f"{med.display} ({med.dose_text})"
    return med.display


def join(items: Iterable[str]) -> str:
    """Join names for running text, dropping duplicates but keeping order."""
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return "; ".join(seen)


def medication_evidence(med: MedicationFact, what: str) -> Evidence:
    """An evidence row for one current medication."""
    return Evidence(what=what, value=medication_text(med), date=med.started, reference=med.resource_ref)


def finding_evidence(finding: ClinicalFinding, what: str) -> Evidence:
    """An evidence row for one condition, encounter reason or coded observation."""
    value = finding.display
    if finding.laterality and finding.laterality not in value.lower():
        value += f" ({finding.laterality})"
    return Evidence(what=what, value=value, date=finding.date, reference=finding.resource_ref)


def procedure_evidence(proc: ProcedureFact, what: str) -> Evidence:
    """An evidence row for one procedure."""
    return Evidence(what=what, value=proc.display, date=proc.performed, reference=proc.resource_ref)


def iso_date_of(evidence: Evidence) -> str:
    """The evidence date as ``YYYY-MM-DD``, or "date unknown"."""
    when = evidence.date
    if when is None:
        return "date unknown"
    return when.date().isoformat() if isinstance(when, datetime) else when.isoformat()
