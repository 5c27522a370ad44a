"""Order-sign rules as pure functions over PatientFacts, the label tables they read, the
compression matcher, and the catalogue's new action kinds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from cds_service.catalog import Catalog, CatalogError
from cds_service.clinical import facts as F
from cds_service.clinical.engine import evaluate
from cds_service.clinical.facts import DraftOrderFact, MedicationFact
from cds_service.clinical.orders import compression_pad, diuretic_electrolytes, statin_interaction
from cds_service.clinical.orders.devices import COMPRESSION, order_groups
from cds_service.clinical.orders.engine import evaluate_orders
from cds_service.clinical.orders.statin_switch import PRAVASTATIN_20, PRAVASTATIN_40, switch_for
from test_rules_symptoms import CFG, NOW, cond, days_ago, facts, lab, med

ROOT = Path(__file__).resolve().parent.parent


def draft(display: str, *classes: str, ingredients: tuple[str, ...] = (), ref: str = "MedicationRequest/d1") -> MedicationFact:
    return MedicationFact(display, frozenset(classes), "product", ingredients, None, NOW, ref, draft=True)


def chart_med(display: str, *classes: str, ingredients: tuple[str, ...] = ()) -> MedicationFact:
    return MedicationFact(display, frozenset(classes), "product", ingredients, None, days_ago(30), "MedicationRequest/m1")


CLARI = chart_med("clarithromycin 500 MG Oral Tablet", F.CYP3A4_STRONG_INHIBITOR, ingredients=("clarithromycin",))


def test_drafts_do_not_reach_the_patient_view_rules() -> None:
    pf = facts(CLARI)
    pf.drafts.append(draft("simvastatin 40 MG Oral Tablet", F.STATIN, ingredients=("simvastatin",)))
    assert evaluate(pf, CFG) == []  # no statin on file: patient-view is silent
    assert [f.topic for f in evaluate_orders(pf, CFG)] == ["rx-statin-interaction"]


def test_one_finding_per_draft_each_naming_its_draft() -> None:
    pf = facts(CLARI)
    pf.drafts += [draft("simvastatin 40 MG Oral Tablet", F.STATIN, ingredients=("simvastatin",), ref="MedicationRequest/a"),
                  draft("lovastatin 20 MG Oral Tablet", F.STATIN, ingredients=("lovastatin",), ref="MedicationRequest/b")]
    found = statin_interaction.evaluate(pf, CFG)
    assert [f.draft_order for f in found] == ["MedicationRequest/a", "MedicationRequest/b"]


@pytest.mark.parametrize("mg, fires", [(20, False), (40, True)])
def test_simvastatin_dose_limit_with_amlodipine(mg: int, fires: bool) -> None:
    pf = facts(chart_med("amlodipine 5 MG Oral Tablet", F.AMLODIPINE, ingredients=("amlodipine",)))
    pf.drafts.append(draft(f"simvastatin {mg} MG Oral Tablet", F.STATIN, ingredients=("simvastatin",)))
    found = statin_interaction.evaluate(pf, CFG)
    assert bool(found) is fires
    if fires:
        assert found[0].replacement == PRAVASTATIN_40


def test_switch_targets_follow_the_labels() -> None:
    cyclo = chart_med("cyclosporine 100 MG Oral Capsule", F.CICLOSPORIN, ingredients=("cyclosporine",))
    gem = chart_med("gemfibrozil 600 MG Oral Tablet", F.GEMFIBROZIL, F.FIBRATE, ingredients=("gemfibrozil",))
    assert switch_for({F.CYP3A4_STRONG_INHIBITOR}, [CLARI]) == PRAVASTATIN_40
    assert switch_for({F.CICLOSPORIN}, [cyclo]) == PRAVASTATIN_20
    assert switch_for({F.GEMFIBROZIL}, [gem]) is None  # every statin label restricts gemfibrozil
    assert switch_for(set(), [], simva_80=True) is not None


def test_diuretic_indicator_warning_only_when_low() -> None:
    furo = draft("furosemide 40 MG Oral Tablet", F.DIURETIC_LOOP)
    missing = facts()
    missing.drafts.append(furo)
    low = facts(lab(F.POTASSIUM, 3.1, age=5), lab(F.MAGNESIUM, 0.8, age=5))
    low.drafts.append(furo)
    fresh = facts(lab(F.POTASSIUM, 4.1, age=5), lab(F.MAGNESIUM, 0.8, age=5))
    fresh.drafts.append(furo)
    assert [f.indicator for f in diuretic_electrolytes.evaluate(missing, CFG)] == [None]
    assert [f.indicator for f in diuretic_electrolytes.evaluate(low, CFG)] == ["warning"]
    assert diuretic_electrolytes.evaluate(fresh, CFG) == []


def test_compression_with_borderline_abi_is_silent_below_threshold_fires() -> None:
    order = DraftOrderFact(frozenset({COMPRESSION}), "Compression stockings", "ServiceRequest/s1")
    for value, fires in ((0.85, False), (0.79, True)):
        pf = facts(lab(F.ABI, value, age=30))
        pf.draft_orders.append(order)
        assert bool(compression_pad.evaluate(pf, CFG)) is fires, value
    pad = facts(cond(F.PAD, "Peripheral arterial occlusive disease"))
    pad.draft_orders.append(order)
    [finding] = compression_pad.evaluate(pad, CFG)
    assert finding.suggestions == ("remove-draft", "order-abi")


@pytest.mark.parametrize("text, matches", [
    ("Compression stockings, below knee", True),
    ("Anti-embolism stockings", True),
    ("Multilayer compression bandaging", True),
    ("Intermittent pneumatic compression device", True),
    ("Spinal cord compression MRI", False),
    ("Bandage, adhesive", False),
])
def test_compression_orders_are_recognised_by_text(text: str, matches: bool) -> None:
    assert (COMPRESSION in order_groups([], [text])) is matches


def test_a_deceased_patient_gets_no_order_cards() -> None:
    pf = facts(CLARI, deceased=True, birth=date(1950, 1, 1))
    pf.drafts.append(draft("simvastatin 40 MG Oral Tablet", F.STATIN, ingredients=("simvastatin",)))
    assert evaluate_orders(pf, CFG) == []


# --- catalogue: delete/update/create actions ------------------------------------------------

def _card(tmp_path: Path, mutate) -> Path:
    doc = yaml.safe_load((ROOT / "cards" / "rx-fluoroquinolone-tendon.yaml").read_text())
    mutate(doc)
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "card.yaml").write_text(yaml.safe_dump(doc))
    return folder


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["suggestions"][0]["actions"][0].pop("target"), "target: draft"),
    (lambda d: d["suggestions"][0]["actions"][0].update(description="Remove the draft"), "{draft_order}"),
    (lambda d: d["suggestions"][0]["actions"][0].update(description="Remove {patient}"), "unknown token"),
    (lambda d: d["suggestions"][0]["actions"][0].update(type="create"), "needs order"),
])
def test_catalogue_refuses_malformed_draft_actions(tmp_path: Path, mutate, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Catalog.load(_card(tmp_path, mutate))
