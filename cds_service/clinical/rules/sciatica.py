"""Documented lumbar radiculopathy or sciatica with calf or leg pain: the pain may be referred.

Source: NICE NG59 "Low back pain and sciatica in over 16s" (2016, updated 2020): sciatica
is radicular pain from a lumbar nerve root that radiates into the leg. Informational: a
referred cause does not exclude a local one (the other cards still apply).
"""

from __future__ import annotations

from cds_service.clinical.facts import CALF_PAIN, SCIATICA, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.shape import FindingBuilder, current
from cds_service.clinical.rules.symptoms import recent_in, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "sciatica-referred-pain"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a current sciatica/radiculopathy condition AND recent calf or leg pain."""
    sciatica = current(facts, SCIATICA)
    if not sciatica:
        return None
    pain = recent_in(facts, {CALF_PAIN}, cfg.symptom_window_days)
    pain = [p for p in pain if SCIATICA not in p.groups]
    if not pain:
        return None
    card = FindingBuilder(TOPIC).findings(sciatica, "Radiculopathy / sciatica").findings(pain, "Symptom")
    return card.build({
        "sciatica": "; ".join(dict.fromkeys(f.display for f in sciatica)),
        "symptoms": symptom_text(pain),
    })
