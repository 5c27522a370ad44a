"""The clinician-readable card catalogue (``cards/README.md``), generated from the YAML.

``python -m cds_service.catalog [--check] [CARDS_DIR]`` (or ``tools/gen_catalogue.py``)
writes or checks it. The catalogue carries what a card leaves out to stay short: each
card's ``notes`` (the guideline pathway, the settings behind its thresholds).
"""

from __future__ import annotations

import sys
from pathlib import Path

from cds_service.catalog import DISCLAIMER, ORDER_SYSTEMS, Catalog, _cell
from cds_service.clinical.findings import INDICATOR_RANK


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def render_catalogue_markdown(catalog: Catalog) -> str:
    """The clinician-readable catalogue (``cards/README.md``), generated from the YAML."""
    cards = sorted(
        (catalog.card_meta(t) for t in catalog.topics),
        key=lambda c: (INDICATOR_RANK[c.indicator], c.id),
    )
    out = [
        "# Card catalogue",
        "",
        "<!-- GENERATED from cards/*.yaml by `python tools/gen_catalogue.py`; do not edit. -->",
        "",
        "Every card this service can show, with when it fires, its wording and its sources.",
        "Text in `{braces}` is filled from the patient's chart; the rendered card also lists",
        f"the chart evidence (resource and date), ends with \"{DISCLAIMER}\", and cites the",
        "sources below. Only `active` cards are shown to clinicians.",
        "",
        "| Topic | Card | Indicator | Status | Version |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in cards:
        out.append(f"| `{c.id}` | {c.title} | {c.indicator} | {c.status} | {c.version} |")
    for c in cards:
        out += ["", f"## {c.title}", "", f"- Topic: `{c.id}` (version {c.version}, {c.status})"]
        out += [f"- Indicator: **{c.indicator}**", f"- Fires when: {c.trigger.strip()}", ""]
        out += ["Summary:", "", _quote(c.summary), "", "Detail:", "", _quote(c.detail), ""]
        if c.notes:
            out += ["Notes (catalogue only, not on the card):", "", _quote(c.notes), ""]
        if c.placeholders:
            out += ["Filled from the chart:", "", "| Placeholder | Meaning | Options |"]
            out += ["| --- | --- | --- |"]
            for name, ph in sorted(c.placeholders.items()):
                options = "; ".join(
                    f"`{k}`: {v.strip() or '(nothing)'}" for k, v in (ph.choices or {}).items()
                )
                out.append(f"| `{name}` | {ph.description} | {_cell(options) if options else '–'} |")
            out.append("")
        if c.suggestions:
            out += ["Suggestions (offered only when relevant):", ""]
            for s in c.suggestions:
                codes = ", ".join(
                    f"{ORDER_SYSTEMS[a.order.system]} {a.order.code} {a.order.display}"
                    if a.order is not None else f"{a.type} the draft order"
                    for a in s.actions
                )
                out.append(f"- {s.label} ({codes})")
            out.append("")
        if c.overrideReasons:
            reasons = ", ".join(r.display for r in c.overrideReasons)
            out += [f"Override reasons: {reasons}.", ""]
        out += [f"Source: [{c.source.label}]({c.source.url})", ""]
        if c.links:
            out += ["Links: " + ", ".join(f"[{link.label}]({link.url})" for link in c.links), ""]
        out += ["References:", ""]
        for ref in c.references:
            out.append(f"- [{ref.label}]({ref.url})" if ref.url else f"- {ref.label}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m cds_service.catalog [--check] [CARDS_DIR]``: write or check the README."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    cards_dir = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "cards"
    text = render_catalogue_markdown(Catalog.load(cards_dir))
    target = cards_dir / "README.md"
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python -m cds_service.catalog", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
