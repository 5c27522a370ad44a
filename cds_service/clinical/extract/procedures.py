"""Extraction of procedures and encounters: completed Procedures, reasons of the context and recent Encounters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.clinical.extract.common import (
    ExtractorBase,
    _codings,
    _concept_text,
    _laterality,
    _ref,
    parse_datetime,
)
from cds_service.clinical.facts import ClinicalFinding, PatientFacts, ProcedureFact


# Encounter.status values of a visit that did not (or not yet) take place.
_NOT_HELD = frozenset({"planned", "cancelled", "entered-in-error"})


class ProceduresReader(ExtractorBase):

    # --- encounter reasons ----------------------------------------------------------------
    def encounter(self, facts: PatientFacts) -> None:
        """Reasons of the context Encounter, and of the other (recent) Encounters on file.

        The context Encounter counts dated or not (it is the visit under way). Any other
        Encounter counts only when dated and not in the future, and not cancelled, planned
        or entered in error: the rules then apply their windows to its date, so a reason
        given on last week's visit counts without an ``encounterId`` and one from years
        ago does not.
        """
        context = self.record.encounter
        if context is not None:
            self._reasons(facts, context, dated_only=False)
        seen = {self.record.encounter_id}
        for encounter in self.record.of_type("Encounter"):
            enc_id = encounter.get("id")
            if enc_id in seen or encounter.get("status") in _NOT_HELD:
                continue
            seen.add(enc_id)
            self._reasons(facts, encounter, dated_only=True)

    def _reasons(self, facts: PatientFacts, encounter: Mapping[str, Any], *, dated_only: bool) -> None:
        reasons = encounter.get("reasonCode")
        if not isinstance(reasons, list):
            return
        selected = [(r, self.concept_groups(r)) for r in reasons]
        selected = [(r, g) for r, g in selected if g]
        if not selected:
            return
        period = encounter.get("period")
        start = None
        if isinstance(period, dict):
            start = parse_datetime(period.get("start")) or parse_datetime(period.get("end"))
        if dated_only and (start is None or start > self.now):
            return
        if not self.valid(encounter):
            return
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
            if performed is None and isinstance(period, dict):
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


