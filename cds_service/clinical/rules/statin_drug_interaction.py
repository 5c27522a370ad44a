"""Statin with a drug its FDA label contraindicates, or simvastatin 80 mg started recently.

Sources: see ``statin_labels`` (ZOCOR label §4, §7.1-7.2, §2.2; lovastatin label
Contraindications and Warnings; FDA Drug Safety Communication, June 2011). Fires with or
without symptoms: the combination is rare and the harm (myopathy, rhabdomyolysis) serious.
Dose-limit combinations (simvastatin 40 mg with amlodipine ...) are common and do not fire
here; ``statin-muscle-symptoms`` names them when there are symptoms or a raised CK. No
suggestion changes orders on this hook.
"""

from __future__ import annotations

from cds_service.clinical.facts import STATIN, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.chart import age_days, join, medication_text
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.statin_labels import (
    GROUP_NAMES,
    SIMVASTATIN_80_SECTION,
    ZOCOR,
    pairs_with,
    statin_mg,
)
from cds_service.config import ClinicalSettings

TOPIC = "statin-drug-interaction"
DEFAULT_INDICATOR: Indicator = "warning"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a label contraindication between two current drugs, or simvastatin 80 mg
    started less than ``simvastatin_80_restricted_days`` ago."""
    statins = facts.medications_in(STATIN)
    if not statins:
        return None
    others = [m for m in facts.medications if STATIN not in m.classes]
    lines: list[str] = []
    involved_statins = []
    involved_others = []
    for statin_med in statins:
        for statin in statin_med.ingredients:
            for other in others:
                for pair in pairs_with(statin, other):
                    what = "contraindicated" if pair.level == "contraindicated" else "to be avoided"
                    lines.append(
                        f"- {statin.capitalize()} with {medication_text(other)} "
                        f"({GROUP_NAMES[pair.group]}): {what} ({pair.label} {pair.section})."
                    )
                    involved_statins.append(statin_med)
                    involved_others.append(other)
            if statin == "simvastatin" and statin_mg(statin_med, statin) == 80 \
                    and statin_med.started is not None \
                    and age_days(facts.now, statin_med.started) < cfg.simvastatin_80_restricted_days:
                lines.append(
                    f"- Simvastatin 80 mg started {statin_med.started.date().isoformat()}: the label "
                    f"restricts 80 mg to patients who have taken it for 12 months or more "
                    f"without muscle toxicity ({ZOCOR} {SIMVASTATIN_80_SECTION})."
                )
                involved_statins.append(statin_med)
    if not lines:
        return None
    unique_statins = list(dict.fromkeys(involved_statins))
    unique_others = list(dict.fromkeys(involved_others))
    card = FindingBuilder(TOPIC).medications(unique_statins, "Current statin")
    card.medications(unique_others, "Interacting drug")
    dose_only = not unique_others
    return card.build({
        "kind": "dose" if dose_only else "interaction",
        "statin_name": join(m.display for m in unique_statins),
        "other_name": join(m.display for m in unique_others),
        "interactions": "\n".join(dict.fromkeys(lines)),
    })
