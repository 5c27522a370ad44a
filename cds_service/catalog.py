"""The card catalogue: card wording as YAML data, validated at start-up, rendered to cards.

Each ``cards/<topic>.yaml`` declares one card (schema: :class:`CardDefinition`, and
``cards/README.md`` for people). :meth:`Catalog.load` validates every file and fails fast
with a :class:`CatalogError` naming the file and the problem. :meth:`Catalog.render` turns
a rule's :class:`~cds_service.clinical.findings.Finding` into a CDS Hooks 2.0 card.

Placeholders. Templates use ``{name}``; each name is declared under ``placeholders``:

- a *value* placeholder is filled with the finding's text; ``max_length`` caps it (longer
  values are cut with an ellipsis) and is required when the summary uses it;
- a *choice* placeholder maps option keys to text; the finding names the option and the
  option text (which may itself use value placeholders) is inserted.

Every placeholder used must be declared and every declared one used. The summary's
worst-case length (static text + every placeholder at its maximum) must stay under 140
characters (CDS Hooks 2.0 Card.summary), so no rendered summary can exceed it. A missing
or undeclared value, or an unknown choice, at render time is a programming error and
raises :class:`RenderError`.

Suggestions order a LOINC- (or CPT-, for imaging) coded test as a FHIR R4
``ServiceRequest`` with ``status: draft`` and ``intent: proposal``. ``ServiceRequest.subject``
is 1..1 in FHIR R4, but the catalogue does not know the patient: the caller passes
``subject="Patient/<context.patientId>"`` to :meth:`Catalog.render`; without it the
subject is omitted (the EHR fills it when it accepts the suggestion).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid4

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cds_service.card_templates import CompiledCard, TemplateError, compile_card, escape
from cds_service.clinical.findings import Evidence, Finding

DISCLAIMER = "Decision support, not a diagnosis."
SUMMARY_LIMIT = 140  # CDS Hooks 2.0 Card.summary: "<140 characters"
ELLIPSIS = "…"

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_BRACE = re.compile(r"[{}]")
_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_HTTPS = re.compile(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$")

ORDER_SYSTEMS = {
    "http://loinc.org": "LOINC",
    # Imaging has no verified LOINC; CPT 93970/93971 come from VSAC "Imaging Related to
    # VTE" (clinical.md §4.2).
    "http://www.ama-assn.org/go/cpt": "CPT",
}


class CatalogError(Exception):
    """A card file is invalid, or a finding cannot be rendered with the catalogue."""


class RenderError(CatalogError):
    """A finding does not fit its card (a programming error in a rule)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _https(value: str) -> str:
    if not _HTTPS.match(value):
        raise ValueError(f"must be an absolute https URL, got {value!r}")
    return value


class Placeholder(_Strict):
    """A named slot in the summary or detail."""

    description: str = Field(min_length=1)
    max_length: int | None = Field(default=None, ge=1)
    choices: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Placeholder:
        if self.choices is not None:
            if self.max_length is not None:
                raise ValueError("a choice placeholder takes no max_length")
            if not self.choices:
                raise ValueError("choices must not be empty")
            for key in self.choices:
                if not _SLUG.match(key):
                    raise ValueError(f"choice key {key!r} must be lower-case-with-dashes")
        return self


class OrderCode(_Strict):
    """The coded test a suggestion orders."""

    system: str
    code: str = Field(min_length=1)
    display: str = Field(min_length=1)

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str) -> str:
        if value not in ORDER_SYSTEMS:
            raise ValueError(f"order code system must be one of {sorted(ORDER_SYSTEMS)}")
        return value


ACTION_TOKENS = frozenset({"draft_order", "replacement"})  # filled from the finding (order-sign)


class ActionDef(_Strict):
    """A suggestion action: ``create`` a draft ServiceRequest for one coded test, or (on
    order-sign) ``delete`` / ``update`` the draft order the card concerns (``target:
    draft``). Descriptions may name ``{draft_order}`` and ``{replacement}``."""

    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    order: OrderCode | None = None
    target: Literal["draft"] | None = None

    @model_validator(mode="after")
    def _shape(self) -> ActionDef:
        if self.type == "create" and (self.order is None or self.target is not None):
            raise ValueError("a create action orders a test: it needs order and no target")
        if self.type != "create" and (self.target != "draft" or self.order is not None):
            raise ValueError(f"a {self.type} action acts on the draft order: target: draft, no order")
        for name in _PLACEHOLDER.findall(self.description):
            if name not in ACTION_TOKENS:
                raise ValueError(f"action description uses unknown token {{{name}}}")
        if _BRACE.findall(_PLACEHOLDER.sub("", self.description)):
            raise ValueError("action description has a brace that is not a {token}")
        return self


class SuggestionDef(_Strict):
    """A suggestion a finding may select by ``id``; ``uuid`` is fixed so feedback can name it."""

    id: str
    label: str = Field(min_length=1)
    uuid: str
    isRecommended: bool | None = None
    actions: list[ActionDef] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"suggestion id {value!r} must be lower-case-with-dashes")
        return value

    @field_validator("label")
    @classmethod
    def _label_tokens(cls, value: str) -> str:
        unknown = set(_PLACEHOLDER.findall(value)) - ACTION_TOKENS
        if unknown or _BRACE.findall(_PLACEHOLDER.sub("", value)):
            raise ValueError(f"suggestion label may name only {sorted(ACTION_TOKENS)}")
        return value

    @field_validator("uuid")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            canonical = str(UUID(value))
        except ValueError as exc:
            raise ValueError(f"suggestion uuid {value!r} is not a UUID") from exc
        if canonical != value:
            raise ValueError(f"suggestion uuid {value!r} must be lower-case canonical form")
        return value


class TopicCoding(_Strict):
    """``source.topic``: the card's stable topic id as a Coding."""

    system: str
    code: str = Field(min_length=1)
    display: str = Field(min_length=1)

    @field_validator("system")
    @classmethod
    def _https_system(cls, value: str) -> str:
        return _https(value)


class SourceDef(_Strict):
    """``Card.source``."""

    label: str = Field(min_length=1)
    url: str
    topic: TopicCoding

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        return _https(value)


class OverrideReason(_Strict):
    """A Coding offered when the clinician dismisses the card (display is required)."""

    code: str = Field(min_length=1)
    system: str
    display: str = Field(min_length=1)

    @field_validator("system")
    @classmethod
    def _https_system(cls, value: str) -> str:
        return _https(value)


class Citation(_Strict):
    """A reference printed under the card detail and in the catalogue."""

    label: str = Field(min_length=1)
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _https(value)


class LinkDef(_Strict):
    """``Card.links`` entry: an absolute link to the card's main guideline or label (the
    sandbox and some EHRs do not open ``source.url``)."""

    label: str = Field(min_length=1)
    url: str
    type: Literal["absolute"] = "absolute"

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        return _https(value)


class CardDefinition(_Strict):
    """One card as declared in ``cards/<topic>.yaml``."""

    id: str
    version: str
    status: Literal["active", "draft", "retired"]
    indicator: Literal["info", "warning", "critical"]
    title: str = Field(min_length=1)
    trigger: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    detail: str = Field(min_length=1)
    placeholders: dict[str, Placeholder] = Field(default_factory=dict)
    source: SourceDef
    suggestions: list[SuggestionDef] = Field(default_factory=list)
    selectionBehavior: Literal["any", "at-most-one"] | None = None
    overrideReasons: list[OverrideReason] = Field(default_factory=list)
    references: list[Citation] = Field(min_length=1)
    links: list[LinkDef] = Field(min_length=1)
    # Catalogue-only text: the generic guideline pathway and notes about settings. The
    # card itself stays short (the finding, what to consider, evidence, sources).
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"id {value!r} must be lower-case-with-dashes")
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not _SEMVER.match(value):
            raise ValueError(f"version {value!r} is not semver MAJOR.MINOR.PATCH")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CardDefinition:
        if self.source.topic.code != self.id:
            raise ValueError(f"source.topic.code {self.source.topic.code!r} must equal id {self.id!r}")
        if "\n" in self.summary:
            raise ValueError("summary must be one line")
        if self.notes is not None and _BRACE.search(self.notes):
            raise ValueError("notes are catalogue text: no {placeholders}")
        self._check_placeholders()
        self._check_suggestions()
        codes = [r.code for r in self.overrideReasons]
        if len(codes) != len(set(codes)):
            raise ValueError("overrideReasons codes must be unique")
        if _worst_case_summary(self) >= SUMMARY_LIMIT:
            raise ValueError(
                f"summary can reach {_worst_case_summary(self)} characters with its "
                f"placeholders at max_length; it must stay under {SUMMARY_LIMIT}"
            )
        return self

    def _check_placeholders(self) -> None:
        texts = {"summary": self.summary, "detail": self.detail}
        for name, ph in self.placeholders.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"placeholder name {name!r} must be lower_snake_case")
            for key, text in (ph.choices or {}).items():
                texts[f"placeholder {name!r} choice {key!r}"] = text
        used: set[str] = set()
        for where, text in texts.items():
            stray = _BRACE.findall(_PLACEHOLDER.sub("", text))
            if stray:
                raise ValueError(f"{where} has a brace that is not a {{placeholder}}")
            for name in _PLACEHOLDER.findall(text):
                if name not in self.placeholders:
                    raise ValueError(f"{where} uses undeclared placeholder {{{name}}}")
                if where.startswith("placeholder") and self.placeholders[name].choices:
                    raise ValueError(f"{where} nests choice placeholder {{{name}}}")
                used.add(name)
        unused = sorted(set(self.placeholders) - used)
        if unused:
            raise ValueError(f"declared placeholders never used: {', '.join(unused)}")
        for name in _PLACEHOLDER.findall(self.summary):
            ph = self.placeholders[name]
            nested = [n for t in (ph.choices or {}).values() for n in _PLACEHOLDER.findall(t)]
            for n in [name] if ph.choices is None else nested:
                if self.placeholders[n].max_length is None:
                    raise ValueError(f"placeholder {{{n}}} appears in the summary: it needs max_length")

    def _check_suggestions(self) -> None:
        actions = [a for s in self.suggestions for a in s.actions]
        if any(a.target for a in actions):
            # order-sign cards name their draft order in every action
            unnamed = [a.description for a in actions if "{draft_order}" not in a.description]
            if unnamed:
                raise ValueError(f"every action of a draft-order card names {{draft_order}}: {unnamed[0]!r}")
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("suggestions require selectionBehavior (CDS Hooks 2.0)")
        if not self.suggestions and self.selectionBehavior is not None:
            raise ValueError("selectionBehavior without suggestions")
        ids = [s.id for s in self.suggestions]
        if len(ids) != len(set(ids)):
            raise ValueError("suggestion ids must be unique within a card")
        recommended = sum(1 for s in self.suggestions if s.isRecommended)
        if self.selectionBehavior == "at-most-one" and recommended > 1:
            raise ValueError("at-most-one allows at most one isRecommended suggestion")


def _placeholder_max(card: CardDefinition, name: str) -> int:
    ph = card.placeholders[name]
    if ph.choices is None:
        return ph.max_length or 0
    return max(_static_plus(card, text) for text in ph.choices.values())


def _static_plus(card: CardDefinition, text: str) -> int:
    names = _PLACEHOLDER.findall(text)
    return len(_PLACEHOLDER.sub("", text)) + sum(_placeholder_max(card, n) for n in names)


def _worst_case_summary(card: CardDefinition) -> int:
    return _static_plus(card, card.summary)


# --- loading ------------------------------------------------------------------------


def _load_one(path: Path) -> CardDefinition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: top level must be a mapping")
    try:
        return CardDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(card)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CatalogError(f"{path}: {problems}") from exc


class Catalog:
    """The validated card definitions, keyed by topic."""

    def __init__(self, cards: Mapping[str, CardDefinition]) -> None:
        self._cards = dict(cards)
        self.topics: tuple[str, ...] = tuple(sorted(self._cards))
        # Templates compiled now, so a broken one fails at start-up (card_templates).
        try:
            self._compiled: dict[str, CompiledCard] = {
                topic: compile_card(card) for topic, card in self._cards.items()
            }
        except TemplateError as exc:
            raise CatalogError(str(exc)) from None

    @classmethod
    def load(cls, cards_dir: Path) -> Catalog:
        """Load and validate every ``*.yaml`` in ``cards_dir``; raise on the first problem."""
        if not cards_dir.is_dir():
            raise CatalogError(f"{cards_dir}: card directory not found")
        cards: dict[str, CardDefinition] = {}
        origin: dict[str, Path] = {}
        uuids: dict[str, Path] = {}
        for path in sorted(cards_dir.glob("*.yaml")):
            card = _load_one(path)
            if card.id in cards:
                raise CatalogError(f"{path}: duplicate card id {card.id!r} (also in {origin[card.id]})")
            for s in card.suggestions:
                if s.uuid in uuids:
                    raise CatalogError(f"{path}: suggestion uuid {s.uuid} reused (also in {uuids[s.uuid]})")
                uuids[s.uuid] = path
            cards[card.id] = card
            origin[card.id] = path
        if not cards:
            raise CatalogError(f"{cards_dir}: no card files (*.yaml)")
        return cls(cards)

    def require(self, topics: Iterable[str]) -> None:
        """Fail fast unless every topic a rule can emit has an active card."""
        missing = [t for t in topics if t not in self._cards]
        if missing:
            raise CatalogError(f"no card for topic(s): {', '.join(missing)}")
        inactive = [t for t in topics if self._cards[t].status != "active"]
        if inactive:
            raise CatalogError(f"card(s) not active: {', '.join(inactive)}")

    def card_meta(self, topic: str) -> CardDefinition:
        """The definition of one card; ``CatalogError`` for an unknown topic."""
        try:
            return self._cards[topic]
        except KeyError:
            raise CatalogError(f"unknown card topic {topic!r}") from None

    def is_active(self, topic: str) -> bool:
        """Only active cards render; draft and retired cards are silent."""
        return self.card_meta(topic).status == "active"

    def render(
        self,
        finding: Finding,
        *,
        new_uuid: Callable[[], str] = lambda: str(uuid4()),
        subject: str | None = None,
        drafts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Render a finding as a CDS Hooks 2.0 card (no null or empty fields)."""
        card = self.card_meta(finding.topic)
        if card.status != "active":
            raise RenderError(f"card {card.id!r} is {card.status}; only active cards render")
        _check_values(card, finding)
        compiled = self._compiled[card.id]
        summary = compiled.fill(compiled.summary, finding.values, markdown=False)
        if len(summary) >= SUMMARY_LIMIT:  # unreachable after validation; never emit it
            raise RenderError(f"card {card.id!r}: summary is {len(summary)} characters")
        fixed = compiled.fixed_parts()
        out: dict[str, Any] = {
            "uuid": new_uuid(),
            "summary": summary,
            "indicator": finding.indicator or card.indicator,
            "detail": _detail(compiled, finding),
            "source": fixed["source"],
        }
        from cds_service.card_actions import render_suggestions  # it renders with catalogue types

        suggestions = render_suggestions(card, finding, subject, drafts)
        if suggestions:
            out["suggestions"] = suggestions
            out["selectionBehavior"] = card.selectionBehavior
        if "overrideReasons" in fixed:
            out["overrideReasons"] = fixed["overrideReasons"]
        if "links" in fixed:
            out["links"] = fixed["links"]
        return out

    def render_all(
        self,
        findings: Iterable[Finding],
        *,
        new_uuid: Callable[[], str] = lambda: str(uuid4()),
        subject: str | None = None,
    ) -> list[dict[str, Any]]:
        """Render findings in order, skipping those whose card is not active."""
        return [
            self.render(f, new_uuid=new_uuid, subject=subject)
            for f in findings
            if self.is_active(f.topic)
        ]


# --- rendering ----------------------------------------------------------------------


def _check_values(card: CardDefinition, finding: Finding) -> None:
    declared, given = set(card.placeholders), set(finding.values)
    if declared - given:
        raise RenderError(f"card {card.id!r}: missing value(s) {sorted(declared - given)}")
    if given - declared:
        raise RenderError(f"card {card.id!r}: undeclared value(s) {sorted(given - declared)}")
    for name, ph in card.placeholders.items():
        if ph.choices is not None and finding.values[name] not in ph.choices:
            raise RenderError(
                f"card {card.id!r}: {name}={finding.values[name]!r} is not one of {sorted(ph.choices)}"
            )


_escape = escape  # chart text goes into Markdown: keep it from becoming HTML


def _cell(text: str | None) -> str:
    if not text:
        return "–"
    return _escape(" ".join(text.split())).replace("|", "\\|")


def _date_text(when: datetime | date | None) -> str:
    if when is None:
        return "–"
    return when.date().isoformat() if isinstance(when, datetime) else when.isoformat()


def _when(ev: Evidence) -> float:
    if ev.date is None:
        return float("-inf")
    moment = ev.date if isinstance(ev.date, datetime) else datetime(ev.date.year, ev.date.month, ev.date.day)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _once(evidence: tuple[Evidence, ...]) -> list[Evidence]:
    """Each fact once: one row per chart entry (a red flag is also a symptom), and one row
    per fact charted twice (the same complaint as a Condition and an Encounter reason):
    the newest, in the place of the first."""
    out: list[Evidence] = []
    for ev in evidence:
        if ev.reference and any(ev.reference == seen.reference for seen in out):
            continue
        same = next((i for i, seen in enumerate(out) if (seen.what, seen.value) == (ev.what, ev.value)), None)
        if same is None:
            out.append(ev)
        elif _when(ev) > _when(out[same]):
            out[same] = ev
    return out


def _evidence_table(evidence: tuple[Evidence, ...]) -> str:
    rows = ["| What | Value | Date | Source resource |", "| --- | --- | --- | --- |"]
    for ev in _once(evidence):
        rows.append(
            f"| {_cell(ev.what)} | {_cell(ev.value)} | {_date_text(ev.date)} | {_cell(ev.reference)} |"
        )
    return "\n".join(rows)


_TRAILING_BLANKS = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _detail(compiled: CompiledCard, finding: Finding) -> str:
    # Collapse the blank lines an empty choice leaves behind.
    body = compiled.fill(compiled.detail, finding.values, markdown=True)
    body = _BLANK_RUNS.sub("\n\n", _TRAILING_BLANKS.sub("\n", body)).strip()
    parts = [body]
    if finding.evidence:
        parts.append("**Evidence from the chart**\n\n" + _evidence_table(finding.evidence))
    parts.append(DISCLAIMER)
    parts.append(compiled.citations)
    return "\n\n".join(parts)


# The clinician-readable catalogue document lives in ``catalogue_doc`` (re-exported).
from cds_service.catalogue_doc import main, render_catalogue_markdown  # noqa: E402

__all__ = ["Catalog", "CatalogError", "RenderError", "main", "render_catalogue_markdown"]


if __name__ == "__main__":
    raise SystemExit(main())
