"""Run the order-sign rules over one patient's facts (chart plus drafts).

Unlike patient-view, a topic may give several cards: one per draft order it concerns
(each card names its draft). Ordered critical, warning, info, then by ``ORDER_RULES`` and
the drafts' order. A deceased patient gets none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.findings import INDICATOR_RANK, Finding, Indicator
from cds_service.clinical.orders import (
    compression_pad,
    diuretic_electrolytes,
    fluoroquinolone_tendon,
    statin_baseline,
    statin_interaction,
)
from cds_service.config import ClinicalSettings


@dataclass(frozen=True)
class OrderRule:
    topic: str
    default_indicator: Indicator
    evaluate: Callable[[PatientFacts, ClinicalSettings], list[Finding]]


def _rule(module: object) -> OrderRule:
    return OrderRule(getattr(module, "TOPIC"), getattr(module, "DEFAULT_INDICATOR"),
                     getattr(module, "evaluate"))


ORDER_RULES: tuple[OrderRule, ...] = tuple(_rule(m) for m in (
    statin_interaction, fluoroquinolone_tendon, compression_pad, diuretic_electrolytes,
    statin_baseline,
))
ORDER_TOPICS: tuple[str, ...] = tuple(r.topic for r in ORDER_RULES)
ORDER_DEFAULT_INDICATORS: Mapping[str, Indicator] = {r.topic: r.default_indicator for r in ORDER_RULES}


def evaluate_orders(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    if facts.deceased or not (facts.drafts or facts.draft_orders):
        return []
    found: list[tuple[int, int, Finding]] = []
    for i, rule in enumerate(ORDER_RULES):
        for finding in rule.evaluate(facts, cfg):
            indicator = finding.indicator or rule.default_indicator
            found.append((INDICATOR_RANK[indicator], i, finding))
    found.sort(key=lambda item: (item[0], item[1]))
    return [f for _, _, f in found]
