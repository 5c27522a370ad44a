"""``python -m bench.alert_burden`` (``make alert-burden``): how often would the service speak?

Runs every rule over a synthetic population (``bench.population``: at least 1,000 charts,
fixed seed, generated at run time) and prints, as a Markdown table, the share of charts
with any card and with a critical card, per topic, for all charts and separately for the
charts without a leg or muscle symptom (what the service's own symptom gate reads).

Targets (issue 7, "less noise, same safety"); the exit status is 1 when one fails:

- at most 2 % of the charts without a leg or muscle symptom get any card;
- no critical card without a critical value (K < 2.5 or Mg < 0.5 mmol/L, CK at least 10x
  ULN, a coded rhabdomyolysis or crush syndrome, low K or Mg with digoxin) or a
  leg-localised symptom to carry a red flag.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cds_service.clinical.engine import TOPICS, effective_indicator, evaluate
from cds_service.clinical.extract import extract_facts
from cds_service.clinical.facts import DIGOXIN, PatientFacts
from cds_service.clinical.rules.electrolyte_deficiency import low_electrolytes
from cds_service.clinical.rules.rhabdomyolysis import coded_rhabdomyolysis, very_high_ck
from cds_service.clinical.rules.labs import certainly_below
from cds_service.clinical.rules.symptoms import leg_symptom_findings, symptom_findings
from cds_service.config import ClinicalSettings
from cds_service.record import PatientRecord
from cds_service.terminology.valuesets import Terminology

EVALUATION_TIME = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DEFAULT_COUNT = 1000
DEFAULT_SEED = 20261121
QUIET_MAX_SHARE = 0.02  # of charts without a leg/muscle symptom that get any card


@dataclass(frozen=True)
class Chart:
    """One evaluated chart: what it shows and which cards (topic, indicator) it got."""

    symptomatic: bool  # a leg or muscle symptom opens the gate
    cards: tuple[tuple[str, str], ...]
    justified_critical: bool  # no critical card, or a critical value / leg-localised symptom

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(topic for topic, _ in self.cards)

    @property
    def critical(self) -> frozenset[str]:
        return frozenset(topic for topic, indicator in self.cards if indicator == "critical")


@dataclass
class Tally:
    charts: int = 0
    any_card: int = 0
    any_critical: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)
    by_indicator: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, chart: Chart) -> None:
        self.charts += 1
        self.any_card += bool(chart.cards)
        self.any_critical += bool(chart.critical)
        self.by_topic.update(chart.topics)
        self.by_indicator.update(chart.cards)


def critical_value(facts: PatientFacts, cfg: ClinicalSettings) -> bool:
    """A value that justifies a critical card whatever the symptoms."""
    k, mg, k_low, mg_low, _ = low_electrolytes(facts, cfg)
    if k is not None and certainly_below(k, cfg.potassium_critical_mmol_l):
        return True
    if mg is not None and certainly_below(mg, cfg.magnesium_critical_mmol_l):
        return True
    if (k_low or mg_low) and facts.medications_in(DIGOXIN):
        return True
    return very_high_ck(facts, cfg) is not None or bool(coded_rhabdomyolysis(facts, cfg))


def evaluate_chart(facts: PatientFacts, cfg: ClinicalSettings) -> Chart:
    cards = tuple((f.topic, effective_indicator(f)) for f in evaluate(facts, cfg))
    critical = any(indicator == "critical" for _, indicator in cards)
    justified = not critical or critical_value(facts, cfg) or bool(leg_symptom_findings(facts, cfg))
    return Chart(bool(symptom_findings(facts, cfg)), cards, justified)


def run(population: Iterable[tuple[str, list[dict]]], cfg: ClinicalSettings,
        now: datetime = EVALUATION_TIME) -> list[Chart]:
    terminology = Terminology.load()
    out = []
    for patient_id, resources in population:
        record = PatientRecord(patient_id)
        record.extend(resources)
        out.append(evaluate_chart(extract_facts(record, terminology, now), cfg))
    return out


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def table(charts: list[Chart]) -> str:
    """The Markdown table: all charts, those with and those without a leg/muscle symptom."""
    groups = (Tally(), Tally(), Tally())  # all, with a symptom, without
    for chart in charts:
        groups[0].add(chart)
        groups[1 if chart.symptomatic else 2].add(chart)
    names = ("all charts", "with a leg/muscle symptom", "without a leg/muscle symptom")
    rows = [
        "| | " + " | ".join(f"{name} (n = {t.charts})" for name, t in zip(names, groups)) + " |",
        "| --- | --- | --- | --- |",
        "| any card | " + " | ".join(_pct(t.any_card, t.charts) for t in groups) + " |",
        "| a critical card | " + " | ".join(_pct(t.any_critical, t.charts) for t in groups) + " |",
    ]
    for topic in TOPICS:
        cells = []
        for t in groups:
            text = _pct(t.by_topic[topic], t.charts)
            levels = [(level, t.by_indicator[(topic, level)]) for level in ("critical", "warning", "info")]
            levels = [(level, n) for level, n in levels if n]
            if len(levels) > 1 or (levels and levels[0][0] == "critical"):
                text += " (" + ", ".join(f"{_pct(n, t.charts)} {level}" for level, n in levels) + ")"
            cells.append(text)
        rows.append(f"| `{topic}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def failures(charts: list[Chart]) -> list[str]:
    """The targets that fail (empty: all met)."""
    out = []
    quiet = [c for c in charts if not c.symptomatic]
    noisy = sum(1 for c in quiet if c.topics)
    if quiet and noisy / len(quiet) > QUIET_MAX_SHARE:
        out.append(f"{_pct(noisy, len(quiet))} of charts without a leg/muscle symptom get a card "
                   f"(target <= {QUIET_MAX_SHARE:.0%})")
    unjustified = sum(1 for c in charts if not c.justified_critical)
    if unjustified:
        out.append(f"{unjustified} chart(s) with a critical card but no critical value or leg-localised symptom")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alert_burden", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="charts to generate (default 1000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="population seed")
    args = parser.parse_args(argv)
    from bench.population import charts as population

    cfg = ClinicalSettings()
    print(f"generating and evaluating {args.count} charts (seed {args.seed}) ...", file=sys.stderr)
    result = run(population(args.count, args.seed, EVALUATION_TIME), cfg)
    print(table(result))
    failed = failures(result)
    for line in failed:
        print(f"FAIL: {line}", file=sys.stderr)
    if not failed:
        print("all alert-burden targets met", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
