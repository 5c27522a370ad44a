"""The one shape every rule shares: open a gate, read the latest facts, return a Finding
whose evidence table lists the chart items it used.

:class:`FindingBuilder` collects the evidence rows in the order the card shows them and
builds the :class:`Finding`; :func:`current` is the "current condition in these groups"
look-up most rules start from. A rule stays a pure function: it builds, it never renders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cds_service.clinical.facts import ClinicalFinding, LabResult, MedicationFact, PatientFacts
from cds_service.clinical.findings import Evidence, Finding, Indicator, Replacement
from cds_service.clinical.rules.chart import current_in, finding_evidence, medication_evidence
from cds_service.clinical.rules.labs import lab_evidence
from cds_service.clinical.rules.symptoms import symptom_evidence


def current(facts: PatientFacts, *groups: str) -> list[ClinicalFinding]:
    """Current (active, unabated) conditions/findings in any of ``groups``."""
    return current_in(facts.findings_in(*groups), facts.now)


class FindingBuilder:
    """Evidence rows for one topic, then the Finding (``build``)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.evidence: list[Evidence] = []

    def medications(self, meds: Iterable[MedicationFact], what: str) -> FindingBuilder:
        self.evidence += [medication_evidence(m, what) for m in meds]
        return self

    def findings(self, findings: Iterable[ClinicalFinding], what: str) -> FindingBuilder:
        self.evidence += [finding_evidence(f, what) for f in findings]
        return self

    def symptoms(self, symptoms: list[ClinicalFinding]) -> FindingBuilder:
        self.evidence += symptom_evidence(symptoms)
        return self

    def labs(self, *labs: LabResult | None, what: str | None = None) -> FindingBuilder:
        """One row per result given; ``None`` (no result in the window) adds nothing."""
        self.evidence += [lab_evidence(lab, what) for lab in labs if lab is not None]
        return self

    def rows(self, rows: Iterable[Evidence]) -> FindingBuilder:
        self.evidence += list(rows)
        return self

    def build(
        self,
        values: Mapping[str, str],
        *,
        suggestions: Iterable[str] = (),
        indicator: Indicator | None = None,
        draft_order: str | None = None,
        replacement: Replacement | None = None,
    ) -> Finding:
        return Finding(
            topic=self.topic,
            indicator=indicator,
            values=dict(values),
            evidence=tuple(self.evidence),
            suggestions=tuple(suggestions),
            draft_order=draft_order,
            replacement=replacement,
        )
