"""``rx-statin-interaction``: a draft statin with a drug its FDA label contraindicates, or
above the label's dose limit with a drug on file or in the same drafts; or simvastatin
80 mg as a new start.

Sources: ``rules/statin_labels.py`` (ZOCOR §2.2, §2.3, §4, §7; lovastatin label) and
``orders/statin_switch.py`` (PRAVACHOL, LIPITOR, CRESTOR dose limits). A new start is a
draft simvastatin 80 mg for a patient with no simvastatin 80 mg on file started at least
``simvastatin_80_restricted_days`` ago (ZOCOR §2.2: 80 mg only for patients who have taken
it chronically, 12 months or more, without muscle toxicity). Pravastatin 40 mg with
clarithromycin is within its label's limit and stays silent.
"""

from __future__ import annotations

from cds_service.clinical.facts import CYP3A4_STRONG_INHIBITOR, STATIN, MedicationFact, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.orders.common import draft_evidence, drafts_in, other_drugs, where
from cds_service.clinical.orders.statin_switch import order_limits_with, switch_for
from cds_service.clinical.rules.chart import age_days, medication_text
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.statin_labels import (
    GROUP_NAMES,
    SIMVASTATIN_80_SECTION,
    ZOCOR,
    pairs_with,
    statin_mg,
)
from cds_service.config import ClinicalSettings

TOPIC = "rx-statin-interaction"
DEFAULT_INDICATOR: Indicator = "warning"


def _long_term_80(facts: PatientFacts, cfg: ClinicalSettings) -> bool:
    for med in facts.medications_in(STATIN):
        if "simvastatin" in med.ingredients and statin_mg(med, "simvastatin") == 80 \
                and med.started is not None \
                and age_days(facts.now, med.started) >= cfg.simvastatin_80_restricted_days:
            return True
    return False


def _one(facts: PatientFacts, cfg: ClinicalSettings, draft: MedicationFact) -> Finding | None:
    others = [m for m in other_drugs(facts, draft) if STATIN not in m.classes]
    lines: list[str] = []
    involved: list[MedicationFact] = []
    groups: set[str] = set()
    simva_80 = False
    for statin in draft.ingredients:
        mg = statin_mg(draft, statin)
        for other in others:
            for pair in pairs_with(statin, other):
                what = "contraindicated" if pair.level == "contraindicated" else "to be avoided"
                lines.append(f"- {statin.capitalize()} with {medication_text(other)} ({where(other)}; "
                             f"{GROUP_NAMES[pair.group]}): {what} ({pair.label} {pair.section}).")
                involved.append(other)
                groups.add(pair.group)
            for limit in order_limits_with(statin, other):
                if mg is not None and mg > limit.max_mg_per_day:
                    lines.append(f"- {statin.capitalize()} {mg:g} mg with {medication_text(other)} "
                                 f"({where(other)}): above the label's limit of "
                                 f"{limit.max_mg_per_day} mg/day ({limit.label} {limit.section}).")
                    involved.append(other)
                    # a limit named for one drug (clarithromycin) switches like its group
                    groups.add(CYP3A4_STRONG_INHIBITOR if limit.group.startswith("ingredient:")
                               else limit.group)
        if statin == "simvastatin" and mg == 80 and not _long_term_80(facts, cfg):
            simva_80 = True
            lines.append(f"- Simvastatin 80 mg as a new start: the label restricts 80 mg to patients "
                         f"who have taken it for 12 months or more without muscle toxicity "
                         f"({ZOCOR} {SIMVASTATIN_80_SECTION}).")
    if not lines:
        return None
    replacement = switch_for(groups, others, simva_80=simva_80)
    unique = list(dict.fromkeys(involved))
    card = FindingBuilder(TOPIC).rows([draft_evidence(draft, "Draft statin order")])
    card.medications([m for m in unique if not m.draft], "Interacting drug on file")
    card.rows([draft_evidence(m, "Interacting draft order") for m in unique if m.draft])
    return card.build(
        {
            "kind": "interaction" if unique else "dose",
            "statin_name": draft.display,
            "other_name": "; ".join(dict.fromkeys(m.display for m in unique)) or "none",
            "draft_order": draft.resource_ref,
            "interactions": "\n".join(dict.fromkeys(lines)),
            "switch": "offered" if replacement else "none",
            "replacement_name": replacement.display if replacement else "none",
        },
        suggestions=("remove-draft", "switch-statin") if replacement else ("remove-draft",),
        draft_order=draft.resource_ref,
        replacement=replacement,
    )


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    """One finding per draft statin order concerned."""
    return [f for d in drafts_in(facts, STATIN) if (f := _one(facts, cfg, d)) is not None]
