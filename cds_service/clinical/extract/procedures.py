"""Extraction of procedures and encounters: completed Procedures, reasons of the context Encounter."""

from __future__ import annotations

from collections.abc import Mapping

from cds_service.clinical.extract.common import (
    ExtractorBase,
    _codings,
    _concept_text,
    _laterality,
    _ref,
    parse_datetime,
)
from cds_service.clinical.facts import ClinicalFinding, PatientFacts, ProcedureFact


class ProceduresReader(ExtractorBase):

    # --- encounter reasons ----------------------------------------------------------------
    def encounter(self, facts: PatientFacts) -> None:
        encounter = self.record.encounter
        if encounter is None:
            return
        reasons = encounter.get("reasonCode")
        if not isinstance(reasons, list):
            return
        selected = [(r, self.concept_groups(r)) for r in reasons]
        selected = [(r, g) for r, g in selected if g]
        if not selected or not self.valid(encounter):
            return
        period = encounter.get("period")
        start = parse_datetime(period.get("start") if isinstance(period, Mapping) else None)
        for reason, groups in selected:
            facts.findings.append(ClinicalFinding(
                groups=groups,
                display=_concept_text(reason) or "encounter reason",
                source="encounter-reason",
                active=True,
                onset=start,
                recorded=None,
                abatement=None,
                resource_ref=_ref(encounter),
                laterality=_laterality([_concept_text(reason)], _codings(reason)),
            ))

    # --- procedures -----------------------------------------------------------------------
    def procedures(self, facts: PatientFacts) -> None:
        for resource in self.record.of_type("Procedure"):
            if resource.get("status") != "completed":
                continue
            code = resource.get("code")
            groups = self.procedure_concept_groups(code)
            if not groups:
                continue
            period = resource.get("performedPeriod")
            performed = parse_datetime(resource.get("performedDateTime"))
            if performed is None and isinstance(period, Mapping):
                performed = parse_datetime(period.get("end")) or parse_datetime(period.get("start"))
            if performed is None or performed > self.now:
                continue
            if not self.valid(resource):
                continue
            facts.procedures.append(ProcedureFact(
                groups=groups,
                display=_concept_text(code) or "procedure",
                performed=performed,
                resource_ref=_ref(resource),
            ))


