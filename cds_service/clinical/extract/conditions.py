"""Extraction of conditions and symptoms: Condition resources and coded finding Observations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.clinical.extract.common import (
    ACTIVE_CLINICAL,
    DROPPED_VERIFICATION,
    INACTIVE_CLINICAL,
    NEGATIVE_VALUE_CODES,
    NEGATIVE_VALUE_WORDS,
    ExtractorBase,
    _codings,
    _concept_text,
    _laterality,
    _one_of,
    _ref,
    _status_code,
    parse_datetime,
)
from cds_service.clinical.facts import ClinicalFinding, PatientFacts
from cds_service.record import Resource


class ConditionsReader(ExtractorBase):
    def observation_finding(self, facts: PatientFacts, resource: Resource, code: Any) -> None:
        codings = _codings(code)
        groups = self.concept_groups(code)
        value = resource.get("valueCodeableConcept")
        if not groups and isinstance(value, dict):
            codings = _codings(value)
            groups = self.concept_groups(value)
            code = value
        elif _negative(resource):
            return
        if not groups:
            return
        effective = self._effective(resource)
        if effective is not None and effective > self.now:
            return
        if not self.valid(resource):
            return
        body = resource.get("bodySite")
        facts.findings.append(ClinicalFinding(
            groups=groups,
            display=_concept_text(code) or "finding",
            source="observation",
            active=True,
            onset=effective,
            recorded=parse_datetime(resource.get("issued")),
            abatement=None,
            resource_ref=_ref(resource),
            laterality=_laterality([_concept_text(body), _concept_text(code)], codings),
            body_site=_concept_text(body),
        ))

    # --- conditions -----------------------------------------------------------------------
    def conditions(self, facts: PatientFacts) -> None:
        for resource in self.record.of_type("Condition"):
            if _one_of(_status_code(resource.get("verificationStatus")), DROPPED_VERIFICATION):
                continue
            code = resource.get("code")
            groups = self.concept_groups(code)
            if not groups:
                continue
            codings = _codings(code)
            onset_period = resource.get("onsetPeriod")
            onset = parse_datetime(resource.get("onsetDateTime")) or parse_datetime(
                onset_period.get("start") if isinstance(onset_period, dict) else None)
            recorded = parse_datetime(resource.get("recordedDate"))
            first = onset or recorded
            if first is not None and first > self.now:
                continue  # recorded after the evaluation time (replay)
            abatement_period = resource.get("abatementPeriod")
            abatement = parse_datetime(resource.get("abatementDateTime")) or parse_datetime(
                abatement_period.get("end") if isinstance(abatement_period, dict) else None)
            status = _status_code(resource.get("clinicalStatus"))
            if _one_of(status, ACTIVE_CLINICAL):
                active = True
            elif _one_of(status, INACTIVE_CLINICAL):
                active = False
            else:
                # No clinicalStatus: current unless it has abated by now (or states an
                # abatement without a parsable date, e.g. abatementString/Boolean).
                abated = (abatement is not None and abatement <= self.now) or any(
                    k in resource for k in ("abatementString", "abatementBoolean", "abatementAge",
                                             "abatementRange"))
                active = not abated
            if not self.valid(resource):
                continue
            body = resource.get("bodySite")
            body_texts = [_concept_text(b) for b in body] if isinstance(body, list) else []
            facts.findings.append(ClinicalFinding(
                groups=groups,
                display=_concept_text(code) or "condition",
                source="condition",
                active=active,
                onset=onset,
                recorded=recorded,
                abatement=abatement,
                resource_ref=_ref(resource),
                laterality=_laterality([*body_texts, _concept_text(code)], codings),
                body_site="; ".join(t for t in body_texts if t) or None,
            ))

def _negative(resource: Mapping[str, Any]) -> bool:
    """True when an Observation states the finding is absent (value false / absent / negative)."""
    if resource.get("valueBoolean") is False:
        return True
    value = resource.get("valueCodeableConcept")
    if isinstance(value, dict):
        for coding in _codings(value):
            if coding.get("code") in NEGATIVE_VALUE_CODES:
                return True
            display = coding.get("display")
            if isinstance(display, str) and display.strip().lower() in NEGATIVE_VALUE_WORDS:
                return True
        text = value.get("text")
        if isinstance(text, str) and text.strip().lower() in NEGATIVE_VALUE_WORDS:
            return True
    value_string = resource.get("valueString")
    return isinstance(value_string, str) and value_string.strip().lower() in NEGATIVE_VALUE_WORDS


