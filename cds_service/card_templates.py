"""Card templates compiled once, when the catalogue loads (issue 8: no per-request work
that can be done at start-up).

Each text a card fills (summary, detail, every choice text) is split into its literal
pieces and placeholder names; each card's fixed parts (``source``, ``overrideReasons``,
``links`` and the numbered citation list) are serialised once. Rendering then only
substitutes values. Compiling checks every placeholder name against the card's
declarations and raises :class:`TemplateError` (a ``ValueError``) naming the card and
text, so a broken template fails at start-up, never on a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from cds_service.catalog import CardDefinition

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
ELLIPSIS = "…"


class TemplateError(ValueError):
    """A card text names a placeholder its card does not declare."""


@dataclass(frozen=True, slots=True)
class Template:
    """``literals[0] name[0] literals[1] ... name[-1] literals[-1]``."""

    literals: tuple[str, ...]
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledCard:
    summary: Template
    detail: Template
    choices: Mapping[str, Mapping[str, Template]]  # placeholder -> option -> text
    max_length: Mapping[str, int | None]  # value placeholders
    citations: str
    source: bytes  # orjson of Card.source
    override_reasons: bytes | None
    links: bytes | None

    def fill(self, template: Template, values: Mapping[str, str], *, markdown: bool) -> str:
        literals = template.literals
        out = [literals[0]]
        for i, name in enumerate(template.names):
            options = self.choices.get(name)
            if options is not None:
                out.append(self.fill(options[values[name]], values, markdown=markdown))
            else:
                text = values[name]
                if not markdown:
                    text = " ".join(text.split())
                text = _cap(text, self.max_length[name])
                out.append(escape(text) if markdown else text)
            out.append(literals[i + 1])
        return "".join(out)

    def fixed_parts(self) -> dict[str, Any]:
        """Fresh copies of the card's fixed JSON (callers may change what they get)."""
        out: dict[str, Any] = {"source": orjson.loads(self.source)}
        if self.override_reasons is not None:
            out["overrideReasons"] = orjson.loads(self.override_reasons)
        if self.links is not None:
            out["links"] = orjson.loads(self.links)
        return out


def escape(text: str) -> str:
    # Chart text goes into Markdown: keep it from becoming HTML.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cap(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def compile_template(text: str, declared: Mapping[str, object], where: str) -> Template:
    pieces = _PLACEHOLDER.split(text)  # literal, name, literal, ..., literal
    names = tuple(pieces[1::2])
    for name in names:
        if name not in declared:
            raise TemplateError(f"{where} uses undeclared placeholder {{{name}}}")
    return Template(literals=tuple(pieces[0::2]), names=names)


def compile_card(card: CardDefinition) -> CompiledCard:
    declared = card.placeholders
    choices: dict[str, dict[str, Template]] = {}
    for name, ph in declared.items():
        if ph.choices is not None:
            choices[name] = {
                key: compile_template(text, declared, f"card {card.id!r} placeholder {name!r} choice {key!r}")
                for key, text in ph.choices.items()
            }
    lines = ["Sources:", ""]
    for i, ref in enumerate(card.references, start=1):
        lines.append(f"{i}. [{ref.label}]({ref.url})" if ref.url else f"{i}. {ref.label}")
    return CompiledCard(
        summary=compile_template(card.summary, declared, f"card {card.id!r} summary"),
        detail=compile_template(card.detail, declared, f"card {card.id!r} detail"),
        choices=choices,
        max_length={n: ph.max_length for n, ph in declared.items() if ph.choices is None},
        citations="\n".join(lines),
        source=orjson.dumps(
            {"label": card.source.label, "url": card.source.url, "topic": card.source.topic.model_dump()}
        ),
        override_reasons=(
            orjson.dumps([r.model_dump() for r in card.overrideReasons]) if card.overrideReasons else None
        ),
        links=orjson.dumps([link.model_dump() for link in card.links]) if card.links else None,
    )
