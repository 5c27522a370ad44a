"""The card catalogue: YAML validation (one test per rule), rendering, the generated README."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cds_service.catalog import (
    DISCLAIMER,
    Catalog,
    CatalogError,
    RenderError,
    render_catalogue_markdown,
)
from cds_service.clinical.engine import DEFAULT_INDICATORS, TOPICS, evaluate
from cds_service.clinical.findings import Evidence, Finding
from test_rules_engine import everything
from test_rules_issue7 import issue7_charts
from test_rules_symptoms import CALF_PAIN, CFG, NOW, facts, lab, med
from cds_service.clinical import facts as F

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "cards"
SCHEMA = json.loads(
    (ROOT / "cds_service/data/schemas/service-response.schema.json").read_text()
)
OVERRIDE = {"code": "x", "system": "https://calf-cds.example.org/override-reason", "display": "X"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(CARDS)


def valid_card(card_id: str = "test-card") -> dict[str, Any]:
    return {
        "id": card_id,
        "version": "1.0.0",
        "status": "active",
        "indicator": "info",
        "title": "Test card",
        "trigger": "Never in production.",
        "summary": "Value {value} seen",
        "detail": "Detail with {value} and {kind}.",
        "placeholders": {
            "value": {"description": "a value", "max_length": 20},
            "kind": {"description": "a choice", "choices": {"a": "option A", "b": ""}},
        },
        "source": {
            "label": "Test source",
            "url": "https://example.org/source",
            "topic": {"system": "https://calf-cds.example.org/card-topic", "code": card_id, "display": "Test"},
        },
        "links": [{"label": "Test guideline", "url": "https://example.org/guideline"}],
        "suggestions": [
            {
                "id": "order-k",
                "label": "Order potassium",
                "uuid": "424075d7-c780-5bdb-bfbe-bd469433e05f",
                "actions": [
                    {
                        "type": "create",
                        "description": "Draft order",
                        "order": {"system": "http://loinc.org", "code": "2823-3", "display": "Potassium"},
                    }
                ],
            }
        ],
        "selectionBehavior": "any",
        "overrideReasons": [OVERRIDE],
        "references": [{"label": "A citation", "url": "https://example.org/cite"}, {"label": "Plain"}],
    }


def write(tmp_path: Path, *cards: dict[str, Any]) -> Path:
    for i, card in enumerate(cards):
        (tmp_path / f"card{i}.yaml").write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")
    return tmp_path


def no_empty(node: Any) -> None:
    assert node is not None and node != "" and node != [] and node != {}
    if isinstance(node, dict):
        for value in node.values():
            no_empty(value)
    elif isinstance(node, list):
        for value in node:
            no_empty(value)


# --- the shipped catalogue ------------------------------------------------------------


def test_every_rule_topic_has_an_active_card_with_matching_indicator(catalog: Catalog) -> None:
    from cds_service.clinical.orders.engine import ORDER_DEFAULT_INDICATORS, ORDER_TOPICS

    catalog.require((*TOPICS, *ORDER_TOPICS))
    assert set(catalog.topics) == set(TOPICS) | set(ORDER_TOPICS)
    indicators = {**DEFAULT_INDICATORS, **ORDER_DEFAULT_INDICATORS}
    for topic in (*TOPICS, *ORDER_TOPICS):
        meta = catalog.card_meta(topic)
        assert meta.indicator == indicators[topic]
        assert meta.source.topic.code == topic


def test_rendered_cards_are_spec_valid(catalog: Catalog) -> None:
    pf = everything()
    findings = evaluate(pf, CFG)
    findings += evaluate(facts(med("furosemide", F.DIURETIC_LOOP), CALF_PAIN), CFG)
    findings += evaluate(facts(lab(F.CK, 4000, ref_high=200), med("simvastatin", F.STATIN)), CFG)
    for chart in issue7_charts():
        findings += evaluate(chart, CFG)
    assert {f.topic for f in findings} == set(TOPICS)
    cards = catalog.render_all(findings, subject="Patient/example")
    jsonschema.Draft202012Validator(SCHEMA).validate({"cards": cards})
    for card in cards:
        no_empty(card)
        assert len(card["summary"]) < 140
        assert "{" not in card["summary"] + card["detail"]
        assert DISCLAIMER in card["detail"]
        assert card["detail"].rstrip().splitlines()[-1].startswith(("1.", "2.", "3.", "4.", "5."))
        for s in card.get("suggestions", []):
            assert s["actions"][0]["resource"]["subject"] == {"reference": "Patient/example"}
            assert s["actions"][0]["resource"]["status"] == "draft"
            assert s["actions"][0]["resource"]["intent"] == "proposal"


def test_render_details(catalog: Catalog) -> None:
    finding = Finding(
        topic="electrolytes-not-monitored",
        indicator=None,
        values={
            "missing": "magnesium", "window_days": "90", "diuretic": "furosemide <b>",
        },
        evidence=(Evidence("Potassium", "4.1 | mmol/L", NOW, "Observation/k1"),),
        suggestions=("order-magnesium",),
    )
    card = catalog.render(finding, new_uuid=lambda: "card-uuid-1")
    assert card["uuid"] == "card-uuid-1"
    assert card["indicator"] == "info"
    assert card["selectionBehavior"] == "any"
    assert [s["label"] for s in card["suggestions"]] == ["Order magnesium"]
    assert card["suggestions"][0]["uuid"] == "fec79e1c-5b13-5d9d-85e1-134ab62c6ebc"
    assert "subject" not in card["suggestions"][0]["actions"][0]["resource"]
    assert "furosemide &lt;b&gt;" in card["detail"]
    assert "| Potassium | 4.1 \\| mmol/L | 2026-03-15 | Observation/k1 |" in card["detail"]
    no_suggestions = catalog.render(Finding(**{**finding.__dict__, "suggestions": ()}))
    assert "suggestions" not in no_suggestions and "selectionBehavior" not in no_suggestions
    assert no_suggestions["uuid"] != card["uuid"]


def test_long_values_are_truncated_so_summary_stays_short(catalog: Catalog) -> None:
    finding = evaluate(facts(med("x" * 300, F.STATIN), CALF_PAIN), CFG)[0]
    card = catalog.render(finding)
    assert len(card["summary"]) < 140 and "…" in card["summary"]


def test_render_programming_errors(catalog: Catalog) -> None:
    good = evaluate(facts(med("furosemide", F.DIURETIC_LOOP), CALF_PAIN), CFG)[0]
    missing = dict(good.values)
    missing.pop("diuretic")
    with pytest.raises(RenderError, match="missing value"):
        catalog.render(Finding(good.topic, None, missing))
    with pytest.raises(RenderError, match="undeclared value"):
        catalog.render(Finding(good.topic, None, {**good.values, "extra": "x"}))
    with pytest.raises(RenderError, match="undeclared suggestion"):
        catalog.render(Finding(good.topic, None, good.values, (), ("order-nothing",)))
    with pytest.raises(CatalogError, match="unknown card topic"):
        catalog.render(Finding("no-such-topic", None, {}))
    bad_choice = evaluate(facts(med("simvastatin", F.STATIN), CALF_PAIN), CFG)[0]
    with pytest.raises(RenderError, match="not one of"):
        catalog.render(Finding(bad_choice.topic, None, {**bad_choice.values, "reason": "maybe"}))


def test_inactive_card_does_not_render(tmp_path: Path) -> None:
    draft = valid_card()
    draft["status"] = "draft"
    cat = Catalog.load(write(tmp_path, draft))
    finding = Finding("test-card", None, {"value": "1", "kind": "b"})
    with pytest.raises(RenderError, match="draft"):
        cat.render(finding)
    assert cat.render_all([finding]) == []
    with pytest.raises(CatalogError, match="not active"):
        cat.require(["test-card"])


def test_choice_may_be_empty_and_nested_values_fill(tmp_path: Path) -> None:
    card = valid_card()
    card["placeholders"]["kind"]["choices"]["a"] = "option with {value}"
    cat = Catalog.load(write(tmp_path, card))
    rendered = cat.render(Finding("test-card", None, {"value": "7", "kind": "a"}))
    assert rendered["detail"].startswith("Detail with 7 and option with 7.")


def test_committed_readme_is_current(catalog: Catalog) -> None:
    committed = (CARDS / "README.md").read_text(encoding="utf-8")
    assert committed == render_catalogue_markdown(catalog), "run: python tools/gen_catalogue.py"


# --- validation: one bad file per rule ----------------------------------------------------


def mutate(path: str, value: Any) -> dict[str, Any]:
    card = copy.deepcopy(valid_card())
    node: Any = card
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return card


_DELETE = object()

BAD_CARDS = {
    "undeclared placeholder": (mutate("detail", "Uses {other} and {value} {kind}"), "undeclared placeholder"),
    "unused placeholder": (mutate("detail", "No kind here {value}"), "never used: kind"),
    "bad indicator": (mutate("indicator", "hard-stop"), "indicator"),
    "missing source label": (mutate("source.label", _DELETE), "source.label"),
    "summary too long": (mutate("placeholders.value.max_length", 130), "must stay under 140"),
    "summary placeholder without max_length": (mutate("placeholders.value.max_length", None), "needs max_length"),
    "suggestions without actions": (mutate("suggestions.0.actions", []), "actions"),
    "suggestions without selectionBehavior": (mutate("selectionBehavior", None), "require selectionBehavior"),
    "bad version": (mutate("version", "1.0"), "semver"),
    "bad status": (mutate("status", "live"), "status"),
    "topic code differs from id": (mutate("source.topic.code", "other"), "must equal id"),
    "non-https source url": (mutate("source.url", "http://example.org"), "https"),
    "stray brace": (mutate("detail", "{value} {kind} {oops"), "brace"),
    "bad suggestion uuid": (mutate("suggestions.0.uuid", "not-a-uuid"), "not a UUID"),
    "unknown field": (mutate("colour", "red"), "colour"),
    "no references": (mutate("references", []), "references"),
    "action code system not allowed": (mutate("suggestions.0.actions.0.order.system", "http://snomed.info/sct"), "order code system"),
    "override reason without display": (mutate("overrideReasons.0", {"code": "x", "system": OVERRIDE["system"]}), "display"),
    "multiline summary": (mutate("summary", "Line {value}\nTwo"), "one line"),
    "choice with max_length": (mutate("placeholders.kind.max_length", 5), "no max_length"),
}


@pytest.mark.parametrize("name", sorted(BAD_CARDS))
def test_invalid_card_is_rejected_with_file_and_reason(tmp_path: Path, name: str) -> None:
    card, message = BAD_CARDS[name]
    write(tmp_path, card)
    with pytest.raises(CatalogError) as err:
        Catalog.load(tmp_path)
    assert "card0.yaml" in str(err.value)
    assert message in str(err.value)


def test_valid_card_loads(tmp_path: Path) -> None:
    assert Catalog.load(write(tmp_path, valid_card())).topics == ("test-card",)


def test_duplicate_id_rejected(tmp_path: Path) -> None:
    second = valid_card()
    second["suggestions"][0]["uuid"] = "424075d7-c780-5bdb-bfbe-bd469433e060"
    with pytest.raises(CatalogError, match="duplicate card id 'test-card'"):
        Catalog.load(write(tmp_path, valid_card(), second))


def test_reused_suggestion_uuid_rejected(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="reused"):
        Catalog.load(write(tmp_path, valid_card("card-a"), valid_card("card-b")))


def test_unreadable_yaml_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="broken.yaml: cannot read YAML"):
        Catalog.load(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogError, match="no card files"):
        Catalog.load(empty)


def test_new_cards_carry_absolute_links(catalog: Catalog) -> None:
    # the sandbox and some EHRs do not open source.url: each issue-7 card links its guideline
    for topic in ("statin-drug-interaction", "electrolyte-deficiency", "compartment-syndrome-risk",
                  "fluoroquinolone-tendon-risk", "sciatica-referred-pain", "rhabdomyolysis-risk"):
        links = catalog.card_meta(topic).links
        assert links and all(link.url.startswith("https://") and link.type == "absolute" for link in links)
    findings = [f for chart in issue7_charts() for f in evaluate(chart, CFG)]
    card = next(c for c in catalog.render_all(findings) if c["source"]["topic"]["code"] == "sciatica-referred-pain")
    assert card["links"] == [{"label": "NICE NG59, Low back pain and sciatica in over 16s",
                              "url": "https://www.nice.org.uk/guidance/ng59", "type": "absolute"}]


def test_templates_compile_when_the_catalogue_is_built_not_on_a_request() -> None:
    """A card text naming an undeclared placeholder (here forced past the schema, as a
    catalogue assembled in code could be) stops the catalogue from being built."""
    from cds_service.catalog import CardDefinition

    good = CardDefinition.model_validate(valid_card())
    broken = good.model_copy(update={"detail": "Detail with {value} and {nowhere}."})
    with pytest.raises(CatalogError, match=r"card 'test-card' detail uses undeclared placeholder \{nowhere\}"):
        Catalog({"test-card": broken})
    choice = good.placeholders["kind"].model_copy(update={"choices": {"a": "see {missing}", "b": ""}})
    broken_choice = good.model_copy(update={"placeholders": {**good.placeholders, "kind": choice}})
    with pytest.raises(CatalogError, match=r"choice 'a' uses undeclared placeholder \{missing\}"):
        Catalog({"test-card": broken_choice})


def test_each_rendered_card_has_its_own_fixed_parts(tmp_path: Path) -> None:
    """Source, override reasons and links are serialised once at load; a caller changing
    one rendered card does not change the next."""
    cat = Catalog.load(write(tmp_path, valid_card()))
    finding = Finding("test-card", None, {"value": "1", "kind": "a"})
    first = cat.render(finding)
    first["source"]["topic"]["code"] = "changed"
    first["overrideReasons"].clear()
    first["links"][0]["url"] = "https://changed.example.org"
    second = cat.render(finding)
    assert second["source"]["topic"]["code"] == "test-card"
    assert second["overrideReasons"] == [OVERRIDE]
    assert second["links"] == [{"label": "Test guideline", "url": "https://example.org/guideline", "type": "absolute"}]
    assert second["detail"].endswith("Sources:\n\n1. [A citation](https://example.org/cite)\n2. Plain")
