"""Extraction: raw FHIR R4 JSON (a PatientRecord) → PatientFacts.

One module per resource kind: ``medications``, ``labs`` (Observations), ``conditions``
(conditions and symptom findings), ``procedures`` (procedures and encounters); shared
helpers and the validation cache in ``common``.

Two passes keep this fast on large prefetches: resources are first *selected* from the raw
JSON with set look-ups (resource type, status, code), and only the selected ones are
checked against their R4 structure (``shape``: the element names, cardinalities and choices
of the ``fhir.resources`` R4B models, and every element the readers use checked in full
against its R4 data type). A resource that fails the check is skipped and counted (``PatientFacts.skipped_resources``); the log names only the resource type and the
count, never ids or patient identifiers.

Reading rules (clinical.md §0, and docs/extraction.md "Reading real EHR data"):

- medications: MedicationStatement active/intended; MedicationRequest active, order-type
  intent, not doNotPerform; an end date in the past excludes; none for a deceased patient;
- labs: status final/amended/corrected/preliminary, numeric ``valueQuantity`` only, results
  dated after ``now`` ignored (replay), newest first per group across all its codes;
- conditions: refuted / entered-in-error dropped; every other condition is returned with
  ``active`` telling current from historical;
- encounter reasons and coded symptom Observations become findings;
- procedures: completed only;
- draft orders (order-sign ``context.draftOrders``): any status, kept apart as drafts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cds_service.clinical.extract.common import (
    ExtractorBase,
    VerdictCache,
    _model,
    parse_datetime,
    preload_models,
)
from cds_service.clinical.extract.conditions import ConditionsReader
from cds_service.clinical.extract.drafts import DraftsReader
from cds_service.clinical.extract.labs import LabsReader
from cds_service.clinical.extract.medications import MedicationsReader
from cds_service.clinical.extract.procedures import ProceduresReader
from cds_service.clinical.facts import PatientFacts
from cds_service.record import PatientRecord
from cds_service.terminology.valuesets import Terminology

__all__ = ["VerdictCache", "extract_facts", "parse_datetime", "preload_models", "_model"]

log = logging.getLogger(__name__)


class _Extractor(MedicationsReader, LabsReader, ConditionsReader, ProceduresReader, DraftsReader,
                 ExtractorBase):
    """One extraction run over every resource kind."""


def extract_facts(record: PatientRecord, terminology: Terminology, now: datetime,
                  verdicts: VerdictCache | None = None) -> PatientFacts:
    """Read one patient's raw FHIR record into canonical PatientFacts at time ``now``.

    ``verdicts`` (optional) remembers validation results across calls.
    """
    ex = _Extractor(record, terminology, now, verdicts)
    facts = PatientFacts(now=ex.now)
    ex.patient(facts)
    ex.medications(facts)
    ex.observations(facts)
    ex.conditions(facts)
    ex.encounter(facts)
    ex.procedures(facts)
    if record.drafts:
        ex.drafts(facts)  # order-sign only: the orders being signed
    facts.skipped_resources = sum(ex.skipped.values())
    facts.ignored_lab_results = ex.ignored_units
    for rtype, count in sorted(ex.skipped.items()):
        log.warning("skipped %d invalid %s resource(s)", count, rtype)
    if ex.ignored_units:
        log.info("ignored %d lab result(s) with an unknown unit", ex.ignored_units)
    return facts
