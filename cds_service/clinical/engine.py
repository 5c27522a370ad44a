"""Run every clinical rule over one patient's facts and order the findings.

Ordering: critical, then warning, then info (the clinician sees danger first); within a
level, the order of ``RULES``. At most one finding per topic. Interactions between cards:

- ``rhabdomyolysis-risk`` suppresses ``statin-muscle-symptoms``: it already names the
  statin and asks for the urgent checks, and a second card would repeat the CK;
- ``diuretic-electrolyte-depletion`` already suggests potassium and magnesium, so
  ``electrolytes-not-monitored`` is dropped when it fires.

A deceased patient gets no findings: every card advises an assessment of a living patient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.findings import INDICATOR_RANK, Finding, Indicator
from cds_service.clinical.rules import (
    compartment_syndrome,
    diabetic_neuropathy,
    dvt_assessment,
    dvt_red_flags,
    electrolyte_deficiency,
    electrolyte_depletion,
    electrolyte_monitoring,
    fluoroquinolone_tendon,
    peripheral_artery_disease,
    rhabdomyolysis,
    sciatica,
    statin_drug_interaction,
    statin_muscle,
    vitamin_d,
)
from cds_service.config import ClinicalSettings


@dataclass(frozen=True)
class Rule:
    """A card topic, its default indicator and the function that decides it."""

    topic: str
    default_indicator: Indicator
    evaluate: Callable[[PatientFacts, ClinicalSettings], Finding | None]


def _rule(module: object, evaluate: Callable[[PatientFacts, ClinicalSettings], Finding | None] | None = None) -> Rule:
    """A rule module's topic, default indicator and ``evaluate`` (or an override)."""
    return Rule(
        getattr(module, "TOPIC"),
        getattr(module, "DEFAULT_INDICATOR"),
        evaluate or getattr(module, "evaluate"),
    )


RULES: tuple[Rule, ...] = (
    Rule(dvt_red_flags.TOPIC, dvt_red_flags.DEFAULT_INDICATOR, dvt_red_flags.evaluate),
    _rule(compartment_syndrome),
    Rule(rhabdomyolysis.TOPIC, rhabdomyolysis.DEFAULT_INDICATOR, rhabdomyolysis.evaluate),
    Rule(
        electrolyte_depletion.TOPIC,
        electrolyte_depletion.DEFAULT_INDICATOR,
        electrolyte_depletion.evaluate,
    ),
    _rule(electrolyte_deficiency),
    _rule(statin_drug_interaction),
    _rule(statin_muscle),
    _rule(fluoroquinolone_tendon),
    Rule(dvt_assessment.TOPIC, dvt_assessment.DEFAULT_INDICATOR, dvt_assessment.evaluate),
    Rule(
        electrolyte_monitoring.TOPIC,
        electrolyte_monitoring.DEFAULT_INDICATOR,
        electrolyte_monitoring.evaluate,
    ),
    Rule(vitamin_d.TOPIC, vitamin_d.DEFAULT_INDICATOR, vitamin_d.evaluate),
    Rule(
        peripheral_artery_disease.TOPIC,
        peripheral_artery_disease.DEFAULT_INDICATOR,
        peripheral_artery_disease.evaluate,
    ),
    Rule(
        diabetic_neuropathy.TOPIC,
        diabetic_neuropathy.DEFAULT_INDICATOR,
        diabetic_neuropathy.evaluate,
    ),
    _rule(sciatica),
)

TOPICS: tuple[str, ...] = tuple(r.topic for r in RULES)
DEFAULT_INDICATORS: Mapping[str, Indicator] = {r.topic: r.default_indicator for r in RULES}

# topic -> topics it makes redundant when it fires
_SUPPRESSES: Mapping[str, frozenset[str]] = {
    electrolyte_depletion.TOPIC: frozenset({electrolyte_monitoring.TOPIC}),
    rhabdomyolysis.TOPIC: frozenset({statin_muscle.TOPIC}),
}


def effective_indicator(finding: Finding) -> Indicator:
    """The finding's own indicator, else its card's default."""
    return finding.indicator or DEFAULT_INDICATORS[finding.topic]


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    """All findings for one patient: one per topic at most, critical first."""
    if facts.deceased:
        return []
    found: dict[str, Finding] = {}
    for rule in RULES:
        finding = rule.evaluate(facts, cfg)
        if finding is not None and rule.topic not in found:
            found[rule.topic] = finding
    for topic, suppressed in _SUPPRESSES.items():
        if topic in found:
            for other in suppressed:
                found.pop(other, None)
    order = {topic: i for i, topic in enumerate(TOPICS)}
    return sorted(
        found.values(),
        key=lambda f: (INDICATOR_RANK[effective_indicator(f)], order[f.topic]),
    )
