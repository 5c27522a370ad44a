"""Generate ``docs/terminology.md``: per group, its sources, size, and the codes real data
carries that fall in or out of it.

    .venv/bin/python tools/gen_terminology_doc.py [--check]

Inputs, all in the repository: ``cds_service/data/terminology.json`` (the built groups),
``tools/sources/patient_codes.json`` (the codes ``../shared/patients`` carries, refreshed by
``tools/scan_patient_codes.py``) and ``tools/sources/snomed_closures.json``. The output
depends on nothing else, so ``tests/test_terminology_doc.py`` can check the committed doc.
``--check`` exits 1 when the doc is out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from cds_service.terminology import Terminology  # noqa: E402

DATA = REPO_ROOT / "cds_service" / "data" / "terminology.json"
PATIENT_CODES = REPO_ROOT / "tools" / "sources" / "patient_codes.json"
CLOSURES = REPO_ROOT / "tools" / "sources" / "snomed_closures.json"
OUTPUT = REPO_ROOT / "docs" / "terminology.md"
URIS = {"sct": "http://snomed.info/sct", "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
        "loinc": "http://loinc.org", "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm"}
SYSTEM_NAMES = {"sct": "SNOMED CT", "icd10cm": "ICD-10-CM", "icd9cm": "ICD-9-CM",
                "icd10pcs": "ICD-10-PCS", "cpt": "CPT", "icd10cm_prefixes": "ICD-10-CM categories"}
META = ("source", "rule", "covers")
MAX_LISTED = 12

# Words that put a real-data code near a group: such a code outside the group is listed as
# "out" (with the reason), so a reader sees what the group leaves out on purpose.
NEAR = {
    "calf-pain": r"pain in (calf|leg|lower (leg|limb))|leg pain|calf",
    "myalgia": r"myalg|muscle pain|myositis",
    "muscle-cramp": r"cramp|spasm",
    "muscle-weakness": r"weakness",
    "leg-swelling": r"swelling|edema|oedema",
    "leg-warmth-redness": r"warm|redness|erythema|tenderness",
    "pe-symptom": r"dyspn|shortness of breath|chest pain|tachycard|syncope",
    "dvt": r"thromb|embol",
    "active-cancer": r"cancer|carcinoma|malignan|neoplasm|lymphoma|leukemia|sarcoma|melanoma",
    "obesity": r"obes|body mass index 3|bmi 3",
    "immobility": r"paraly|pleg|wheelchair|bed-?ridden|immobil",
    "heart-failure": r"heart failure",
    "hypothyroidism": r"hypothyroid",
    "ckd": r"kidney|renal",
    "diabetes": r"diabet",
    "diabetic-neuropathy": r"neuropath",
    "pad": r"atheroscl|peripheral arter|peripheral vascular|claudication|angiopathy",
    "rhabdomyolysis": r"rhabdo|crush",
    "lower-leg-fracture": r"fracture",
    "crush-injury": r"crush",
    "sciatica": r"sciatica|radicul|back pain",
    "tendon-pain": r"tendon|tendin|achilles|heel",
    "pregnancy": r"pregnan",
    "postpartum": r"postpartum|puerper",
    "potassium": r"potassium",
    "magnesium": r"magnesium",
    "vitamin-d-25oh": r"vitamin d|calcidiol|hydroxyvitamin",
    "vitamin-d3-25oh": r"vitamin d|calcidiol|hydroxyvitamin",
    "ck": r"creatine kinase|\bck\b",
    "d-dimer": r"dimer",
    "tsh": r"thyrotropin|tsh",
    "egfr": r"glomerular",
    "creatinine": r"creatinine",
    "hba1c": r"a1c|hemoglobin a1",
    "bmi": r"body mass",
    "surgery": r"ectomy|otomy|plasty|repair|replacement|excision",
    "leg-surgery": r"knee|ankle|tibia|fibula",
    "leg-cast": r"cast|splint|immobili",
    "limb-immobilisation": r"cast|splint|immobili",
}


def fmt_code(key: str, code: str) -> str:
    if key in ("icd10cm", "icd10cm_prefixes") and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


def listed(codes: list[str], key: str) -> str:
    shown = ", ".join(fmt_code(key, c) for c in codes[:MAX_LISTED])
    more = len(codes) - MAX_LISTED
    return shown + (f" … (+{more})" if more > 0 else "")


def slice_size(piece: dict[str, Any]) -> str:
    parts = []
    for key, codes in piece.items():
        if key not in META:
            parts.append(f"{SYSTEM_NAMES.get(key, key)} {len(codes)}")
    if "covers" in piece:
        parts.append(f"covering {piece['covers']} ICD-10-CM codes")
    return ", ".join(parts)


def slice_codes(piece: dict[str, Any]) -> str:
    return "; ".join(f"{SYSTEM_NAMES.get(k, k)}: {listed(v, k)}"
                     for k, v in piece.items() if k not in META)


def esc(text: str) -> str:
    return text.replace("|", "\\|")


class Report:
    def __init__(self, doc: dict[str, Any], patients: dict[str, Any],
                 closures: dict[str, Any]) -> None:
        self.doc = doc
        self.t = Terminology(doc)
        self.patients = patients["codes"]
        self.closures = closures
        self.lines: list[str] = []

    def w(self, *lines: str) -> None:
        self.lines.extend(lines)

    # --- real data ------------------------------------------------------------------------
    def _excluded_codes(self, group: dict[str, Any]) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for piece in group.get("excluded", []):
            for key, codes in piece.items():
                if key not in META:
                    for c in codes:
                        out[(key, c)] = piece.get("rule", "")
        return out

    def _in_out(self, name: str, kind: str, member: Any,
                group: dict[str, Any] | None) -> tuple[list[str], list[str]]:
        excluded = self._excluded_codes(group or {})
        near = re.compile(NEAR[name], re.I) if name in NEAR else None
        ins, outs = [], []
        for row in self.patients:
            if row["kind"] != kind:
                continue
            key, code, display = row["system"], row["code"], row["display"]
            files = row["files"]
            label = (f"{SYSTEM_NAMES.get(key, key)} {code} {esc(display)} "
                     f"({files} file{'' if files == 1 else 's'})")
            if member(key, code, display):
                ins.append(label)
                continue
            norm = code.replace(".", "").upper() if key == "icd10cm" else code
            hit = excluded.get((key, norm))
            if hit is None and key == "icd10cm":
                hit = next((r for (k, c), r in excluded.items()
                            if k == "icd10cm_prefixes" and norm.startswith(c)), None)
            if hit is not None:
                outs.append(f"{label}: excluded by the rule")
            elif near is not None and near.search(display):
                outs.append(f"{label}: in no source of the group")
        return ins, outs

    def real_data(self, ins: list[str], outs: list[str]) -> None:
        self.w("", "Real data (`shared/patients`):", "")
        self.w(f"- in: {'; '.join(ins) if ins else 'none'}")
        if outs:
            self.w(f"- out: {'; '.join(outs)}")

    # --- sections -------------------------------------------------------------------------
    def header(self) -> None:
        method = self.closures["method"]
        self.w(
            "# Terminology coverage (generated)", "",
            "Generated by `tools/gen_terminology_doc.py` from `cds_service/data/terminology.json`"
            " and `tools/sources/patient_codes.json` (the codes the third-party charts in"
            " `shared/patients` carry); do not edit by hand: `make terminology` rebuilds the"
            " data and this page. How codes are matched, units and extraction:"
            " [extraction.md](extraction.md).", "",
            "## How groups are built", "",
            "Each condition, finding and procedure group is a list of **slices**; a slice is the"
            " codes one source gave under one rule, so every code records where it came from:",
            "",
            "- a **VSAC expansion** (`vsac:<OID>:<year>`, with its version and expansion id"
            " below), taken whole or filtered by the documented rule; codes a filter drops are"
            " listed as *excluded*;",
            "- the **ICD-10-CM tabular list** (`icd10cm-2026`, CDC April 2026): a category and"
            " all its descendants, minus named subcategories; matched as dot-less prefixes, so"
            " 7th-character extensions (T79.6XXA) belong to their category;",
            "- an **assembled SNOMED CT list** (`snomed-closure:<id>`,"
            " `tools/sources/snomed_closures.json`) where subsumption is needed and no"
            " expansion exists. " + method, "",
            "A SNOMED CT code named by hand (clinical.md) is attributed to the expansion that"
            " holds it; the build stops on a code with no published source. Medication classes"
            " come from RxNorm product lists (ingredient → SCD/SBD/SCDC/GPCK/BPCK; a product's"
            " classes are the union of its ingredients') and name matching, lab groups from"
            " LOINC lists.", "")

    def conditions(self, section: str, title: str, kind: str) -> None:
        self.w(f"## {title}", "")
        for name, group in self.doc[section].items():
            exact = sum(len(v) for p in group["slices"] for k, v in p.items()
                        if k not in META and k != "icd10cm_prefixes")
            prefixes = sum(len(p.get("icd10cm_prefixes", [])) for p in group["slices"])
            size = f"{exact} codes" + (f" + {prefixes} ICD-10-CM categories" if prefixes else "")
            if group.get("text"):
                size += f" + {len(group['text'])} text patterns"
            self.w(f"### `{name}`", "", f"Size: {size}. Sources: "
                   + ", ".join(f"`{s}`" for s in group["sources"]) + ".", "")
            if group["slices"]:
                self.w("| Source | Rule | Size | Codes |", "|---|---|---|---|")
                for p in group["slices"]:
                    self.w(f"| `{p['source']}` | {esc(p.get('rule', 'whole expansion'))} | "
                           f"{slice_size(p)} | {esc(slice_codes(p))} |")
            if group.get("excluded"):
                self.w("", "Excluded by the rule:", "")
                for p in group["excluded"]:
                    self.w(f"- `{p['source']}`: {esc(slice_codes(p))}")
            if group.get("text"):
                self.w("", "Text patterns: " + ", ".join(f"`{esc(x)}`" for x in group["text"]))
            if group.get("unverified"):
                self.w("", "Status notes: " + "; ".join(group["unverified"]))
            if section == "conditions":
                member = (lambda k, c, d, n=name: n in self.t.condition_groups(URIS[k], c))
            else:
                member = (lambda k, c, d, n=name: n in self.t.procedure_groups(
                    [{"system": URIS.get(k, k), "code": c, "display": d}]))
            self.real_data(*self._in_out(name, kind, member, group))
            self.w("")

    def medications(self) -> None:
        meds = self.doc["medications"]
        self.w("## Medication classes", "")
        classes = sorted({c for e in meds["ingredients"].values() for c in e["classes"]})
        products = meds["rxnorm_products"]
        for cls in classes:
            names = sorted(n for n, e in meds["ingredients"].items() if cls in e["classes"])
            members = set(names)
            n_products = sum(1 for ings in products.values() if members & set(ings))
            n_ingredient = sum(1 for ings in meds["rxnorm_ingredient_level"].values()
                               if members & set(ings))
            self.w(f"### `{cls}`", "",
                   f"Size: {n_products} RxNorm products, {n_ingredient} ingredient-level codes,"
                   f" {len(names)} ingredient names ({esc(', '.join(names))}). Sources: "
                   + ", ".join(f"`{s}`" for s in meds["class_sources"].get(cls, [])) + ".")
            origin = meds.get("rxnorm_code_sources", {})
            for kind, table in (("products", products),
                                ("ingredient_level", meds["rxnorm_ingredient_level"])):
                counts = [f"`{sid}` {n}" for sid, codes in origin.get(kind, {}).items()
                          if (n := sum(1 for c in codes if members & set(table.get(c, ()))))]
                if counts:
                    label = "Products" if kind == "products" else "Ingredient-level codes"
                    self.w("", f"{label} by source: " + ", ".join(counts) + ".")

            def member(k: str, c: str, d: str, cls: str = cls) -> bool:
                m = self.t.classify_medication([{"system": URIS.get(k, k), "code": c,
                                                 "display": d}])
                return m is not None and cls in m.classes
            ins, _ = self._in_out(cls, "medication", member, None)
            self.real_data(ins, [])
            self.w("")

    def labs(self) -> None:
        self.w("## Lab groups (LOINC)", "")
        for name, group in self.doc["labs"].items():
            codes = ", ".join(f"{c} {esc(d)}" for c, d in group["loinc"].items())
            self.w(f"### `{name}`", "", f"Size: {len(group['loinc'])} LOINC codes"
                   + (f" + {len(group['text'])} text patterns" if group.get("text") else "")
                   + f", canonical unit {group['unit']}. Sources: "
                   + ", ".join(f"`{s}`" for s in group["sources"]) + ".", "",
                   f"Codes: {codes or 'none (text only)'}")
            member = (lambda k, c, d, n=name: self.t.lab_group(URIS.get(k, k), c) == n)
            self.real_data(*self._in_out(name, "observation", member, None))
            self.w("")

    def sources(self) -> None:
        self.w("## Sources", "", "| Source id | What | OID / file | Version | Expansion | Origin |",
               "|---|---|---|---|---|---|")
        for sid, s in self.doc["sources"].items():
            where = s.get("oid") or s.get("file") or ""
            if s.get("oid") and s.get("file"):
                where = f"{s['oid']} ({s['file']})"
            self.w(f"| `{sid}` | {esc(s.get('title') or '')} | {esc(where)} | "
                   f"{s.get('version') or ''} | {s.get('expansion') or ''} | "
                   f"{esc(s.get('origin') or '')} |")

    def render(self) -> str:
        self.header()
        self.conditions("conditions", "Condition and finding groups", "condition")
        self.conditions("procedures", "Procedure groups", "procedure")
        self.medications()
        self.labs()
        self.sources()
        return "\n".join(self.lines).rstrip() + "\n"


def render(data: Path = DATA, patients: Path = PATIENT_CODES, closures: Path = CLOSURES) -> str:
    return Report(json.loads(data.read_text()), json.loads(patients.read_text()),
                  json.loads(closures.read_text())).render()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run make terminology", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text.splitlines())} lines)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
