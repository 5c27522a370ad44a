"""Build ``cds_service/data/terminology.json`` from the shared value-set files.

Run at BUILD time (never by the service)::

    .venv/bin/python tools/build_terminology.py [--source /work/shared/valuesets]

The output is one compact JSON document that ``cds_service.terminology`` loads at
start-up. Every group lists the ids of the sources it was built from, and ``sources``
records each source's OID / file, origin repository, version and expansion date, so the
documentation and the cards can cite them.

Licence note (see ``/work/shared/valuesets/README.md``): the three RxNorm-derived CSV lists
carry no licence file, so they are NOT shipped verbatim; only RxNorm facts derived from them
(RxCUI -> ingredient names) are written. VSAC/eCQM content is CC0 (2021 copies) or MIT
(2025 re-serialisation); PDDI-CDS is CC0.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from build_conditions import build_conditions, build_procedures

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("/work/shared/valuesets")
OUTPUT = REPO_ROOT / "cds_service" / "data" / "terminology.json"

# Group names: duplicated from cds_service/clinical/facts.py on purpose so this script runs
# without importing the package; test_terminology.py checks they stay in step.
STATIN = "statin"
THIAZIDE = "diuretic-thiazide"
LOOP = "diuretic-loop"
CAI = "diuretic-cai"
K_SPARING = "diuretic-k-sparing"
ESTROGEN = "hormonal-estrogen"
INTERACTING = "statin-interacting"
# issue 7 groups (statin label interactions, tendon risk, electrolyte card escalation)
FLUOROQUINOLONE = "fluoroquinolone"
CYP3A4 = "cyp3a4-strong-inhibitor"
FIBRATE = "fibrate"
GEMFIBROZIL = "gemfibrozil"
CICLOSPORIN = "ciclosporin"
DANAZOL = "danazol"
AMIODARONE = "amiodarone"
VERAPAMIL = "verapamil"
DILTIAZEM = "diltiazem"
AMLODIPINE = "amlodipine"
RANOLAZINE = "ranolazine"
DRONEDARONE = "dronedarone"
DIGOXIN = "digoxin"
CORTICOSTEROID = "corticosteroid-systemic"
CORTICOSTEROID_LOCAL = "corticosteroid-local"
VITAMIN_D2 = "vitamin-d2"

SYSTEM_KEYS = {
    "http://snomed.info/sct": "sct",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "http://hl7.org/fhir/sid/icd-9-cm": "icd9cm",
    "http://www.cms.gov/Medicare/Coding/ICD10": "icd10pcs",
    "http://www.ama-assn.org/go/cpt": "cpt",
    "http://loinc.org": "loinc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
}

REPO_2021 = "cqframework/ecqm-content-r4-2021@0be9c6864640478209add3b5c99178291986a0e0 (CC0-1.0)"
REPO_2025 = "canvas-medical/canvas-plugins@344f0bcb924b2be7ffafb5ac7edf19d475704259 (MIT)"
REPO_PDDI = "HL7/PDDI-CDS@018be88010175fa37e818c27c2925a6767273870 (CC0-1.0)"
REPO_SSMITH = "ssmithm/rxnorm-drug-lists@6c486848c3b6c3e4052a273b9fd40ebac1614591 (no licence file; facts only)"
REPO_PEDSNET = "PEDSnet/Variable-Dictionary@009e8ba179c84d844a0c5b898132efb33acdef9e (no licence file; facts only)"
CLINICAL_MD = "shared/reference/clinical.md"
# Files vendored into this repository (CC0 value sets not in the shared folder)
VENDORED = REPO_ROOT / "tools" / "sources"
ICD_CHECK = "ICD-10-CM codes checked against the CDC April-2026 release (PyPI simple-icd-10-cm 1.5.0)"

# Medication sources for the issue-7 groups: the label or guideline each list comes from.
# Ingredient RxCUIs are shipped only where a curated list verified them (clinical.md status
# rule); the other members are matched by ingredient name (clinical.md §0.1 path c).
LABEL_SOURCES: dict[str, dict[str, Any]] = {
    "label:simvastatin": {
        "title": "ZOCOR (simvastatin) US prescribing information: 4 Contraindications (strong "
                 "CYP3A4 inhibitors, cyclosporine, danazol, gemfibrozil), 2 Dosage and "
                 "Administration (80 mg restriction; dose limits with verapamil, diltiazem, "
                 "dronedarone 10 mg, amiodarone, amlodipine, ranolazine 20 mg), 7.1-7.3 Drug "
                 "Interactions; FDA Drug Safety Communication, June 2011",
        "url": "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=ZOCOR",
    },
    "label:lovastatin": {
        "title": "Lovastatin tablets US prescribing information: Contraindications (strong "
                 "CYP3A4 inhibitors), Warnings/Drug Interactions table (avoid with "
                 "gemfibrozil and cyclosporine), Dosage (danazol, diltiazem, dronedarone, "
                 "verapamil: not above 20 mg/day; amiodarone: not above 40 mg/day)",
        "url": "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=lovastatin",
    },
    "fda:fluoroquinolone-boxed-warning": {
        "title": "FDA boxed warning for systemic fluoroquinolones, July 2008 (tendinitis and "
                 "tendon rupture; higher risk over 60, with corticosteroids, in kidney, heart "
                 "and lung transplant recipients); drugs named: ciprofloxacin, gemifloxacin, "
                 "levofloxacin, moxifloxacin, norfloxacin, ofloxacin; delafloxacin (approved "
                 "2017) carries the same boxed warning",
        "url": "https://www.fda.gov/drugs/drug-safety-and-availability/fda-drug-safety-communication-fda-updates-warnings-oral-and-injectable-fluoroquinolone-antibiotics",
    },
    "name:ergocalciferol": {
        "title": "Ergocalciferol (vitamin D2), RxNorm ingredient name; no product list is "
                 "shipped, so products are matched by the ingredient name in their display "
                 "or text (clinical.md §0.1 path c)",
    },
    "vsac:2.16.840.1.113762.1.4.1213.125": {
        "title": "VSAC Digoxin (cited by HL7 PDDI-CDS valueset-digoxin; no expansion "
                 "published there, members matched by name)",
        "oid": "2.16.840.1.113762.1.4.1213.125",
    },
    "vsac:2.16.840.1.113762.1.4.1213.127": {
        "title": "VSAC Cyclosporine (cited by HL7 PDDI-CDS valueset-cyclosporine; no expansion "
                 "published there); ophthalmic products excluded by PDDI-CDS "
                 "valueset-cyclosporine-exclude",
        "oid": "2.16.840.1.113762.1.4.1213.127",
    },
}
# Members of the issue-7 medication groups: (ingredient, groups, source id, aliases)
LABEL_GROUPS: list[tuple[str, list[str], str, list[str]]] = [
    # simvastatin label 7.1 names these strong CYP3A4 inhibitors (clinical.md §1.5)
    *[(n, [CYP3A4, INTERACTING], "label:simvastatin", []) for n in (
        "itraconazole", "ketoconazole", "posaconazole", "voriconazole", "erythromycin",
        "clarithromycin", "telithromycin", "nefazodone", "cobicistat", "boceprevir",
        "telaprevir", "ritonavir", "atazanavir", "darunavir", "lopinavir", "nelfinavir",
        "saquinavir", "tipranavir", "fosamprenavir", "indinavir")],
    ("gemfibrozil", [FIBRATE, GEMFIBROZIL, INTERACTING], "label:simvastatin", []),
    ("fenofibrate", [FIBRATE, INTERACTING], "label:simvastatin", []),
    ("fenofibric acid", [FIBRATE, INTERACTING], "label:simvastatin", []),
    ("cyclosporine", [CICLOSPORIN, INTERACTING], "vsac:2.16.840.1.113762.1.4.1213.127",
     ["ciclosporin", "cyclosporin"]),
    ("danazol", [DANAZOL, INTERACTING], "label:simvastatin", []),
    ("amiodarone", [AMIODARONE, INTERACTING], "label:simvastatin", []),
    ("dronedarone", [DRONEDARONE, INTERACTING], "label:simvastatin", []),
    ("ranolazine", [RANOLAZINE, INTERACTING], "label:simvastatin", []),
    ("verapamil", [VERAPAMIL, INTERACTING], "label:simvastatin", []),
    ("diltiazem", [DILTIAZEM, INTERACTING], "label:simvastatin", []),
    ("amlodipine", [AMLODIPINE, INTERACTING], "label:simvastatin", []),
    ("digoxin", [DIGOXIN], "vsac:2.16.840.1.113762.1.4.1213.125", []),
    ("ergocalciferol", [VITAMIN_D2], "name:ergocalciferol", ["vitamin d2"]),
    *[(n, [FLUOROQUINOLONE], "fda:fluoroquinolone-boxed-warning", []) for n in (
        "ciprofloxacin", "levofloxacin", "moxifloxacin", "ofloxacin", "norfloxacin",
        "gemifloxacin", "delafloxacin")],
]
# Systemic glucocorticoids: HL7 PDDI-CDS per-drug value sets (members of its Systemic
# Corticosteroid class), minus each drug's "-exclude" set (topical, ophthalmic, otic ...).
PDDI_CORTICOSTEROIDS = ("prednisone", "prednisolone", "methylprednisolone", "dexamethasone",
                        "hydrocortisone", "betamethasone", "triamcinolone", "cortisone",
                        "deflazacort")
# A product or text naming a local route is not systemic exposure (the fluoroquinolone
# boxed warning is for systemic use; eye drops and creams are not an interaction either).
LOCAL_ROUTE = (r"(?<![a-z])(ophthalmic|otic|topical|cream|ointment|gel|lotion|foam|shampoo|"
               r"inhal\w*|nasal|rectal|enema|suppositor\w*|vaginal|eye|ear|dental|paste|"
               r"mouthwash|irrigation)(?![a-z])")
# class -> replacement when the route is local (None: the class is dropped)
SYSTEMIC_ONLY = {FLUOROQUINOLONE: None, CORTICOSTEROID: CORTICOSTEROID_LOCAL, CYP3A4: None,
                 CICLOSPORIN: None, INTERACTING: None}


class Tracked(defaultdict):  # type: ignore[type-arg]
    """code -> ingredient names, remembering which source each code came from: every
    access while ``source`` is set records it (all accesses here are additions)."""

    def __init__(self) -> None:
        super().__init__(set)
        self.source: str | None = None
        self.origin: dict[str, set[str]] = defaultdict(set)

    def __getitem__(self, key: str) -> set[str]:
        if self.source:
            self.origin[key].add(self.source)
        return super().__getitem__(key)

    def by_source(self) -> dict[str, list[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for code, sources in self.origin.items():
            for sid in sources:
                out[sid].add(code)
        return {sid: sorted(codes, key=int) for sid, codes in sorted(out.items())}


class Builder:
    """Collects sources and groups while reading the shared files."""

    def __init__(self, src: Path) -> None:
        self.src = src
        self.sources: dict[str, dict[str, Any]] = {}

    # --- sources -------------------------------------------------------------------------
    def vsac(self, folder: str, oid: str) -> tuple[str, list[dict[str, str]]]:
        """Read one VSAC ValueSet JSON; register it as a source; return (id, contains)."""
        matches = sorted((self.src / folder).glob(f"ValueSet-{oid}-*.json"))
        vendored = sorted((VENDORED / folder).glob(f"ValueSet-{oid}-*.json"))
        if len(matches) + len(vendored) != 1:
            raise SystemExit(f"expected one file for {folder}/{oid}, found {matches + vendored}")
        path = (matches + vendored)[0]
        shipped = "tools/sources/" if vendored else ""
        vs = json.loads(path.read_text())
        expansion = vs.get("expansion", {})
        year = folder.rsplit("-", 1)[-1]
        sid = f"vsac:{oid}:{year}"
        self.sources[sid] = {
            "title": vs.get("title") or vs.get("name"),
            "oid": oid,
            "file": f"{shipped}{folder}/{path.name}",
            "version": vs.get("version"),
            "expansion": expansion.get("identifier") or expansion.get("timestamp"),
            "origin": REPO_2021 if year == "2021" else REPO_2025,
        }
        return sid, list(expansion.get("contains", []))

    def vsac_files(self) -> list[tuple[str, str]]:
        """(folder, path) of every VSAC expansion available: shared, then vendored."""
        out = []
        for root in (self.src, VENDORED):
            for folder in ("vsac-ecqm-2021", "vsac-ecqm-2025"):
                out += [(folder, str(p)) for p in sorted((root / folder).glob("ValueSet-*.json"))]
        return out

    def add_source(self, sid: str, **fields: Any) -> str:
        self.sources[sid] = fields
        return sid

    def pddi(self, name: str, vendored: bool = False) -> tuple[str, list[tuple[str, str, str]]]:
        folder = VENDORED if vendored else self.src
        path = folder / "hl7-pddi-cds" / f"valueset-{name}.xml"
        ns = {"f": "http://hl7.org/fhir"}
        root = ET.parse(path).getroot()
        out: list[tuple[str, str, str]] = []
        for include in root.findall("f:compose/f:include", ns):
            system_el = include.find("f:system", ns)
            system = system_el.get("value", "") if system_el is not None else ""
            for concept in include.findall("f:concept", ns):
                code_el = concept.find("f:code", ns)
                disp_el = concept.find("f:display", ns)
                code = code_el.get("value", "") if code_el is not None else ""
                display = disp_el.get("value", "") if disp_el is not None else ""
                out.append((system, code, display))
        version_el = root.find("f:version", ns)
        date_el = root.find("f:date", ns)
        sid = f"pddi:{name}"
        self.sources[sid] = {
            "title": f"HL7 PDDI-CDS valueset-{name}",
            "oid": None,
            "file": ("tools/sources/" if vendored else "") + f"hl7-pddi-cds/{path.name}",
            "version": version_el.get("value") if version_el is not None else None,
            "expansion": date_el.get("value") if date_el is not None else None,
            "origin": REPO_PDDI,
        }
        return sid, out

    def csv_rows(self, name: str) -> list[dict[str, str]]:
        with (self.src / "rxnorm-drug-lists" / name).open(newline="") as fh:
            return list(csv.DictReader(fh))


# --- medications ----------------------------------------------------------------------------

# Ingredient table. Verified IN codes and ATC codes from calf_pain_drug_codes.json
# (clinical.md §1.1–1.5); salt/PIN codes from clinical.md §1.1; "aliases" are other
# RxNorm spellings of the same ingredient. Unverified interacting drugs have no code and
# are matched by name only (clinical.md §1.5).
def ingredient_table(drug_codes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}

    def add(name: str, classes: list[str], codes: list[str], atc: list[str], verified: bool,
            source: str, aliases: list[str] | None = None) -> None:
        entry = table.setdefault(name, {"classes": [], "rxnorm": [], "atc": [], "aliases": [],
                                        "verified": verified, "source": source})
        for c in classes:
            if c not in entry["classes"]:
                entry["classes"].append(c)
        entry["rxnorm"] += [c for c in codes if c not in entry["rxnorm"]]
        entry["atc"] += [a for a in atc if a not in entry["atc"]]
        entry["aliases"] += [a for a in (aliases or []) if a not in entry["aliases"]]

    for item in drug_codes["statins"]:
        name = item["name"].split(" (")[0]
        add(name, [STATIN], [item["rxnorm_in"]["code"]], [item["atc"]["code"]],
            bool(item.get("verified")), "calf_pain_drug_codes.json statins")
    # Legacy salt / PIN RxCUIs (clinical.md §1.1)
    salts = {"atorvastatin": ["83366", "1297766"], "rosuvastatin": ["323828"],
             "pravastatin": ["203144"], "fluvastatin": ["72875"],
             "pitavastatin": ["861640", "2001252", "1944734"]}
    for name, codes in salts.items():
        add(name, [STATIN], codes, [], True, "clinical.md §1.1 legacy salt/PIN RxCUIs")
    # red yeast rice contains lovastatin (clinical.md §1.5): an interacting product
    add("red yeast rice", [INTERACTING], ["232540"], [], True,
        "clinical.md §1.5 (ssmithm lipid list)")

    diuretic_classes = {
        "thiazide_and_thiazide_like": THIAZIDE, "loop": LOOP,
        "potassium_sparing_aldosterone_antagonist": K_SPARING,
        "potassium_sparing_ENaC": K_SPARING, "carbonic_anhydrase_inhibitor": CAI,
    }
    for key, cls in diuretic_classes.items():
        for item in drug_codes["diuretics"][key]:
            add(item["name"], [cls], [item["rxnorm_in"]["code"]], [item["atc"]["code"]],
                bool(item.get("verified")), f"calf_pain_drug_codes.json diuretics.{key}")
    # ethacrynate spellings (clinical.md §1.3); "hctz" is the ubiquitous clinical
    # abbreviation, accepted on the text path only.
    add("ethacrynic acid", [LOOP], ["62349", "4108"], [], True, "clinical.md §1.3",
        aliases=["ethacrynate", "ethacrynate sodium"])
    add("hydrochlorothiazide", [THIAZIDE], [], [], True, "abbreviation", aliases=["hctz"])

    for item in drug_codes["statin_myopathy_interacting_drugs"]:
        names = item["name"]
        if names.startswith("grapefruit"):
            continue  # dietary, not coded
        if names.startswith("other HIV protease inhibitors"):
            inner = names[names.index("(") + 1:names.rindex(")")]
            for n in inner.split(","):
                add(n.strip(), [INTERACTING], [], [], False, "clinical.md §1.5 (name only)")
            continue
        code = item["rxnorm_in"]["code"] if item.get("rxnorm_in") else None
        atc_raw = item["atc"]["code"] if item.get("atc") else None
        atc = [atc_raw] if atc_raw and " " not in atc_raw and item.get("verified") else []
        # Unverified codes are not shipped as codes (clinical.md status rule): name only.
        add(item["name"], [INTERACTING], [code] if code and item.get("verified") else [], atc,
            bool(item.get("verified")), "calf_pain_drug_codes.json statin_myopathy_interacting_drugs")
    for name in ("telithromycin", "boceprevir", "telaprevir", "fusidic acid", "ticagrelor"):
        add(name, [INTERACTING], [], [], False, "clinical.md §1.5 (name only)")

    # Estrogen-containing drugs and SERMs (clinical.md §1.4, §3 Z79.818). RxNorm spells
    # conjugated/esterified estrogens "estrogens, conjugated (USP)".
    add("estradiol", [ESTROGEN], [], [], False, "clinical.md §1.4 (name match)")
    add("ethinyl estradiol", [ESTROGEN], [], [], False, "clinical.md §1.4 (name match)")
    add("conjugated estrogens", [ESTROGEN], [], [], False, "clinical.md §1.4 (name match)",
        aliases=["estrogens, conjugated"])
    add("esterified estrogens", [ESTROGEN], [], [], False, "clinical.md §1.4 (name match)",
        aliases=["estrogens, esterified"])
    add("mestranol", [ESTROGEN], [], [], False, "clinical.md §1.4 (name match)")
    add("tamoxifen", [ESTROGEN], [], [], False, "clinical.md §3 Z79.818 (SERM, name match)")
    add("raloxifene", [ESTROGEN], [], [], False, "clinical.md §3 Z79.818 (SERM, name match)")
    # issue 7 groups; codes already verified above (gemfibrozil, cyclosporine, CCBs ...) stay
    for name, classes, source, aliases in LABEL_GROUPS:
        add(name, classes, [], [], name in table and table[name]["verified"], source, aliases)
    for name in PDDI_CORTICOSTEROIDS:
        add(name, [CORTICOSTEROID], [], [], True, f"pddi:{name}")
    return table


# ATC level-4 groups whose every member shares the class (WHO ATC hierarchy; each group
# contains verified members listed in clinical.md §1.1–1.3). Exact ATC codes of the
# ingredient table are matched first.
ATC_PREFIXES = {
    "C10AA": [STATIN],  # HMG CoA reductase inhibitors
    "C10BA": [STATIN],  # HMG CoA reductase inhibitors in combination with other lipid agents
    "C10BX": [STATIN],  # HMG CoA reductase inhibitors, other combinations
    "C03AA": [THIAZIDE],
    "C03BA": [THIAZIDE],
    "C03CA": [LOOP],
    "C03CC": [LOOP],
    "C03DA": [K_SPARING],
    "C03DB": [K_SPARING],
}
# Statin combination ATC codes (clinical.md §1.2) -> ingredients
ATC_COMBINATIONS = {
    "C10BX03": ["amlodipine", "atorvastatin"],
    "C10BA02": ["simvastatin"],
    "C10BA05": ["atorvastatin"],
    "C10BA06": ["rosuvastatin"],
    "C10BA01": ["lovastatin"],
    "C10BA04": ["fenofibrate", "simvastatin"],
}
# Statin combination MIN codes (clinical.md §1.2)
STATIN_MIN = {
    "404773": ["amlodipine", "atorvastatin"],
    "484211": ["simvastatin"],
    "1422085": ["atorvastatin"],
    "803516": ["simvastatin"],
    "352387": ["lovastatin"],
    "1189803": ["simvastatin"],
    "1430892": ["fenofibrate", "simvastatin"],
}
LIPID_MEDNAMES = {
    "ATORVASTATIN": "atorvastatin", "SIMVASTATIN": "simvastatin", "ROSUVASTATIN": "rosuvastatin",
    "PRAVASTATIN": "pravastatin", "LOVASTATIN": "lovastatin", "FLUVASTATIN": "fluvastatin",
    "PITAVASTATIN": "pitavastatin", "CERIVASTATIN": "cerivastatin",
    "GEMFIBROZIL": "gemfibrozil", "FENOFIBRATE": "fenofibrate", "RED YEAST RICE": "red yeast rice",
}
# VSAC medication sets (2025, vendored in tools/sources) whose products give codes to the
# issue-7 classes (fluoroquinolones, clarithromycin, digoxin, verapamil, diltiazem,
# amlodipine, prednisone, cyclosporine ...)
ISSUE7_PRODUCT_SETS = ("2.16.840.1.113883.3.464.1003.196.12.1001",  # Antibiotic Medications for Pharyngitis
                       "2.16.840.1.113883.3.464.1003.1065",  # Digoxin Medications
                       "2.16.840.1.113762.1.4.1248.164",  # Antihypertensives
                       "2.16.840.1.113762.1.4.1248.364")  # Immunosuppressive Drugs for Urology Care
ISSUE7_PRODUCT_CLASSES = {FLUOROQUINOLONE, CYP3A4, DIGOXIN, VERAPAMIL, DILTIAZEM, AMLODIPINE,
                          AMIODARONE, CORTICOSTEROID, CICLOSPORIN, DANAZOL, RANOLAZINE,
                          DRONEDARONE, FIBRATE, GEMFIBROZIL}
# Brand names that are ordinary words or too short to match safely as text.
BRAND_STOPLIST = {"salix", "salix - substance", "disal", "aqua", "edema"}


def name_regex(names: list[str]) -> re.Pattern[str]:
    alternatives = sorted({re.escape(n) for n in names}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])", re.I)


def build_medications(b: Builder) -> dict[str, Any]:
    drug_codes = json.loads((b.src / "calf_pain_drug_codes.json").read_text())
    b.add_source("calf_pain_drug_codes", title="Calf-pain drug codes (compiled for this service)",
                 oid=None, file="calf_pain_drug_codes.json", version=None, expansion=None,
                 origin=CLINICAL_MD + " §1")
    table = ingredient_table(drug_codes)

    # Extra diuretic ingredients (historical / rare thiazides) from the ingredient CSV.
    hist_sid = b.add_source(
        "ssmithm:diuretic_ingredients", title="Diuretic ingredients (IN/PIN/MIN, historical)",
        oid=None, file="rxnorm-drug-lists/diuretic_ingredients_rxnorm_historical.csv",
        version="historical RxNorm", expansion=None, origin=REPO_SSMITH)
    ingredient_codes = Tracked()  # IN/MIN/PIN/BN -> ingredients
    ingredient_codes.source = hist_sid
    hist_rows = b.csv_rows("diuretic_ingredients_rxnorm_historical.csv")
    for row in hist_rows:
        if row["TTY"] != "IN":
            continue
        name = row["STR"].lower()
        classes = []
        if row["thiazide_diuretic"] == "1":
            classes.append(THIAZIDE)
        if row["loop_diuretic"] == "1":
            classes.append(LOOP)
        if row["Ksparing_diuretic"] == "1" or row["aldo_antagonist"] == "1":
            classes.append(K_SPARING)
        base = next((n for n in table if name == n or name.startswith(n + " ")), None)
        if base is None:
            if name.startswith("ethacrynate"):
                base = "ethacrynic acid"
            else:
                table[name] = {"classes": classes, "rxnorm": [], "atc": [], "aliases": [],
                               "verified": True, "source": hist_sid}
                base = name
        ingredient_codes[row["RXCUI"]].add(base)

    all_names = {n: n for n in table}
    for n, e in table.items():
        for a in e["aliases"]:
            all_names[a.lower()] = n
    rx = name_regex(list(all_names))

    def names_in(text: str) -> set[str]:
        return {all_names[m.group(0).lower()] for m in rx.finditer(text)}

    for name, entry in table.items():
        ingredient_codes.source = ("calf_pain_drug_codes" if entry["source"].startswith("calf_pain")
                                   else "clinical.md")
        for code in entry["rxnorm"]:
            ingredient_codes[code].add(name)
    ingredient_codes.source = hist_sid
    for row in hist_rows:  # MIN/PIN rows: ingredients by name
        if row["TTY"] in ("MIN", "PIN"):
            found = names_in(row["STR"])
            if found:
                ingredient_codes[row["RXCUI"]] |= found
    ingredient_codes.source = "clinical.md"  # §1.2 statin combination MINs
    for code, names in STATIN_MIN.items():
        ingredient_codes[code] |= set(names)

    products = Tracked()
    brands: dict[str, set[str]] = defaultdict(set)
    class_sources: dict[str, set[str]] = defaultdict(set)

    def note(names: set[str], sid: str) -> None:
        for n in names:
            for c in table[n]["classes"]:
                class_sources[c].add(sid)

    def add_brand(label: str, names: set[str]) -> None:
        label = label.strip().lower()
        label = re.sub(r"\s+\d.*$", "", label)  # "Caduet 10/80" -> "caduet"
        if len(label) >= 4 and label not in BRAND_STOPLIST and not names_in(label) \
                and not any(ch.isdigit() for ch in label):
            brands[label] |= names

    # (1) VSAC statin grouper + intensity sets (2021 and 2025)
    for folder, oid in [("vsac-ecqm-2021", "2.16.840.1.113762.1.4.1110.19"),
                        ("vsac-ecqm-2021", "2.16.840.1.113883.3.526.3.1572"),
                        ("vsac-ecqm-2021", "2.16.840.1.113883.3.526.3.1574"),
                        ("vsac-ecqm-2021", "2.16.840.1.113883.3.526.3.1575"),
                        ("vsac-ecqm-2025", "2.16.840.1.113883.3.526.3.1572"),
                        ("vsac-ecqm-2025", "2.16.840.1.113883.3.526.3.1574"),
                        ("vsac-ecqm-2025", "2.16.840.1.113883.3.526.3.1575")]:
        sid, contains = b.vsac(folder, oid)
        products.source = sid
        for c in contains:
            found = names_in(c.get("display", ""))
            if not any(STATIN in table[n]["classes"] for n in found):
                raise SystemExit(f"statin set {oid} holds non-statin {c}")
            products[c["code"]] |= found
            note(found, sid)
    # VSAC Statin Allergen: IN codes (already in the table; recorded as a source)
    sid, _ = b.vsac("vsac-ecqm-2021", "2.16.840.1.113762.1.4.1110.42")
    class_sources[STATIN].add(sid)

    # (2) ssmithm lipid list: statin-containing rows and fibrate (interacting) rows
    lipid_sid = b.add_source(
        "ssmithm:lipid_lowering", title="Lipid-lowering RxCUIs (statins, fibrates, ezetimibe, niacin)",
        oid=None, file="rxnorm-drug-lists/lipid_lowering_rxnorm_2021.csv", version="RxNorm 2021-01",
        expansion=None, origin=REPO_SSMITH)
    products.source = ingredient_codes.source = lipid_sid
    for row in b.csv_rows("lipid_lowering_rxnorm_2021.csv"):
        declared = {LIPID_MEDNAMES[m] for m in (row["medname1"], row["medname2"])
                    if m in LIPID_MEDNAMES}
        found = names_in(row["STR"]) | declared
        # keep fibrate/ezetimibe/niacin-only products out of "statin": only rows holding a
        # statin or a §1.5 interacting ingredient are kept, and classes come from ingredients
        if not any(table[n]["classes"] for n in found):
            continue
        tty = row["TTY"]
        if tty in ("IN", "MIN", "PIN", "BN"):
            ingredient_codes[row["RXCUI"]] |= found
            if tty == "BN":
                add_brand(row["STR"], found)
        else:
            products[row["RXCUI"]] |= found
            m = re.search(r"\[([^\]]+)\]", row["STR"])
            if m:
                add_brand(m.group(1), found)
        note(found, lipid_sid)

    # (3) diuretic product list (RxNorm May 2026)
    diu_sid = b.add_source(
        "ssmithm:diuretic_products", title="Diuretic products (SCD/SBD/SCDF/SCDG...)",
        oid=None, file="rxnorm-drug-lists/diuretic_products_rxnorm_2026-05.csv",
        version="RxNorm 2026-05", expansion=None, origin=REPO_SSMITH)
    products.source = diu_sid
    for row in b.csv_rows("diuretic_products_rxnorm_2026-05.csv"):
        declared = {all_names.get(row["ingredient_name"].lower(), row["ingredient_name"].lower())}
        declared = {"ethacrynic acid" if d.startswith("ethacryn") else d for d in declared}
        unknown = declared - set(table)
        if unknown:
            raise SystemExit(f"unknown diuretic ingredient {unknown}")
        found = names_in(row["STR"]) | declared
        products[row["RXCUI"]] |= found
        m = re.search(r"\[([^\]]+)\]", row["STR"])
        if m:
            add_brand(m.group(1), found)
        note(found, diu_sid)
    sid, contains = b.vsac("vsac-ecqm-2025", "2.16.840.1.113762.1.4.1248.170")
    products.source = sid
    for c in contains:
        found = names_in(c.get("display", ""))
        if not found:
            raise SystemExit(f"diuretic without known ingredient: {c}")
        products[c["code"]] |= found
        note(found, sid)

    # (4) PDDI-CDS per-drug sets (IN, BN, SCD, SBD; no TTY given: a display without digits
    # is taken as ingredient-level (IN/BN/MIN), one with a strength as a product)
    for drug, ingredient in [("furosemide", "furosemide"), ("bumetanide", "bumetanide"),
                             ("torsemide", "torsemide"), ("ethacrynate", "ethacrynic acid"),
                             ("spironolactone", "spironolactone"), ("eplerenone", "eplerenone")]:
        sid, concepts = b.pddi(drug)
        products.source = ingredient_codes.source = sid
        for system, code, display in concepts:
            if SYSTEM_KEYS.get(system) != "rxnorm":
                continue
            found = names_in(display) | {ingredient}
            if any(ch.isdigit() for ch in display):
                products[code] |= found
            else:
                ingredient_codes[code] |= found
            note(found, sid)

    # (4b) systemic corticosteroids: PDDI-CDS drug set minus its exclude set, products only
    # (a display with a strength) plus the ingredient itself; brand-level codes are left to
    # the name match, whose route check tells a cream from a tablet.
    local = re.compile(LOCAL_ROUTE, re.I)
    for drug in PDDI_CORTICOSTEROIDS:
        sid, concepts = b.pddi(drug, vendored=True)
        excluded: set[str] = set()
        if (VENDORED / "hl7-pddi-cds" / f"valueset-{drug}-exclude.xml").exists():
            ex_sid, ex_concepts = b.pddi(f"{drug}-exclude", vendored=True)
            excluded = {code for _, code, _ in ex_concepts}
            class_sources[CORTICOSTEROID].add(ex_sid)
        products.source = ingredient_codes.source = sid
        for system, code, display in concepts:
            if SYSTEM_KEYS.get(system) != "rxnorm" or code in excluded or local.search(display):
                continue
            if display.strip().lower() == drug:
                ingredient_codes[code].add(drug)
            elif any(ch.isdigit() for ch in display):
                found = names_in(display) | {drug}
                # fluoroquinolone + corticosteroid products are ear drops only (Ciprodex,
                # Cipro HC); their component names carry no route, so they are dropped
                if any(FLUOROQUINOLONE in table[n]["classes"] for n in found):
                    continue
                products[code] |= found
            else:
                continue
            class_sources[CORTICOSTEROID].add(sid)
    # ophthalmic cyclosporine (PDDI-CDS valueset-cyclosporine-exclude) is not systemic: its
    # codes are recorded so the documentation can show the exclusion; the route check
    # drops them at run time.
    ex_sid, _ = b.pddi("cyclosporine-exclude", vendored=True)
    class_sources[CICLOSPORIN].add(ex_sid)
    for sid, fields in LABEL_SOURCES.items():
        b.add_source(sid, oid=fields.get("oid"), file=None, version=None, expansion=None,
                     origin="label / VSAC reference", **{k: v for k, v in fields.items() if k != "oid"})
    for name, classes, source, _ in LABEL_GROUPS:
        for c in classes:
            if c != INTERACTING:
                class_sources[c].add(source)

    # (5) acetazolamide (OMOP export)
    aceta_sid = b.add_source(
        "pedsnet:acetazolamide", title="Acetazolamide RxNorm concepts (OMOP export)", oid=None,
        file="rxnorm-drug-lists/acetazolamide_rxnorm_omop.csv", version="OMOP vocabulary export",
        expansion=None, origin=REPO_PEDSNET)
    products.source = ingredient_codes.source = aceta_sid
    for row in b.csv_rows("acetazolamide_rxnorm_omop.csv"):
        found = names_in(row["name"]) | {"acetazolamide"}
        if row["rxcui"] == row["ingredient_rxcui"]:
            ingredient_codes[row["rxcui"]] |= found
        else:
            products[row["rxcui"]] |= found
        m = re.search(r"\[([^\]]+)\]", row["name"])
        if m:
            add_brand(m.group(1), found)
        note(found, aceta_sid)

    # (6) estrogen sets: keep only products naming an estrogen (drops progestin-only
    # contraceptives such as norethindrone 0.35 MG, which carry no estrogen VTE risk)
    for oid in ("2.16.840.1.113883.3.464.1003.196.12.1080",
                "2.16.840.1.113883.3.464.1003.196.12.1357",
                "2.16.840.1.113883.3.464.1003.196.12.1419"):
        sid, contains = b.vsac("vsac-ecqm-2021", oid)
        products.source = sid
        for c in contains:
            found = names_in(c.get("display", ""))
            if any(ESTROGEN in table[n]["classes"] for n in found):
                products[c["code"]] |= found
                note(found, sid)

    # (7) issue-7 classes: RxNorm clinical/branded drugs of VSAC medication sets whose name
    # holds the ingredient (an SCD/SBD name lists its ingredients: the RxNorm ingredient ->
    # product relationship); local routes are skipped (systemic exposure only).
    for oid in ISSUE7_PRODUCT_SETS:
        sid, contains = b.vsac("vsac-ecqm-2025", oid)
        products.source = sid
        for c in contains:
            display = c.get("display", "")
            found = names_in(display)
            hit = {cl for n in found for cl in table[n]["classes"]} & ISSUE7_PRODUCT_CLASSES
            if not hit or local.search(display) or not any(ch.isdigit() for ch in display):
                continue
            products[c["code"]] |= found
            note(found, sid)
    products.source = ingredient_codes.source = None

    for n, e in table.items():
        for c in e["classes"]:
            if e["source"] == hist_sid:
                class_sources[c].add(hist_sid)
            elif e["source"].startswith("calf_pain"):
                class_sources[c].add("calf_pain_drug_codes")
            elif e["source"] in LABEL_SOURCES or e["source"].startswith("pddi:"):
                class_sources[c].add(e["source"])
            else:
                class_sources[c].add("clinical.md")

    # brands that collide with an ingredient-level display are dropped above; drop brands
    # mapping to nothing with a class
    brand_out = {k: sorted(v) for k, v in sorted(brands.items()) if any(table[n]["classes"] for n in v)}
    return {
        "ingredients": {n: {"classes": sorted(e["classes"]), "rxnorm": e["rxnorm"], "atc": e["atc"],
                            "aliases": e["aliases"], "verified": e["verified"], "source": e["source"]}
                        for n, e in sorted(table.items())},
        "rxnorm_ingredient_level": {k: sorted(v) for k, v in sorted(ingredient_codes.items())},
        # where each RxNorm code came from: source id -> codes (products and ingredient level)
        "rxnorm_code_sources": {"products": products.by_source(),
                                "ingredient_level": ingredient_codes.by_source()},
        "rxnorm_products": {k: sorted(v) for k, v in sorted(products.items(), key=lambda kv: int(kv[0]))},
        "brand_names": brand_out,
        "atc_combinations": ATC_COMBINATIONS,
        "atc_prefixes": ATC_PREFIXES,
        "class_sources": {k: sorted(v) for k, v in sorted(class_sources.items())},
        "local_route": LOCAL_ROUTE,
        "systemic_only": SYSTEMIC_ONLY,
    }


# --- labs -----------------------------------------------------------------------------------

def build_labs(b: Builder) -> dict[str, Any]:
    lab_codes = json.loads((b.src / "calf_pain_lab_codes.json").read_text())
    b.add_source("calf_pain_lab_codes", title="Calf-pain lab codes (compiled for this service)",
                 oid=None, file="calf_pain_lab_codes.json", version=None, expansion=None,
                 origin=CLINICAL_MD + " §2")
    labs: dict[str, dict[str, Any]] = {}

    def group(name: str, unit: str) -> dict[str, Any]:
        return labs.setdefault(name, {"unit": unit, "loinc": {}, "text": [], "sources": []})

    def from_vsac(name: str, unit: str, folder: str, oid: str,
                  exclude: re.Pattern[str] | None = None) -> None:
        g = group(name, unit)
        sid, contains = b.vsac(folder, oid)
        g["sources"].append(sid)
        for c in contains:
            if SYSTEM_KEYS.get(c["system"]) != "loinc":
                continue
            if exclude and exclude.search(c.get("display", "")):
                continue
            g["loinc"][c["code"]] = c.get("display", "")

    def from_compiled(name: str, unit: str, key: str, keep: set[str] | None = None) -> None:
        g = group(name, unit)
        g["sources"].append("calf_pain_lab_codes")
        for c in lab_codes[key]["codes"]:
            if keep is None or c["code"] in keep:
                g["loinc"].setdefault(c["code"], c["display"])

    # Potassium: serum/plasma/blood only. Red-cell and urine codes are excluded by display.
    not_serum = re.compile(r"Red Blood Cells|Urine|Body fluid|CSF|Stool|Sweat", re.I)
    from_vsac("potassium", "mmol/L", "vsac-ecqm-2021", "2.16.840.1.113762.1.4.1045.117", not_serum)
    from_vsac("potassium", "mmol/L", "vsac-ecqm-2025", "2.16.840.1.113762.1.4.1045.117", not_serum)
    sid, concepts = b.pddi("potassium-LOINC")
    labs["potassium"]["sources"].append(sid)
    for system, code, display in concepts:
        if SYSTEM_KEYS.get(system) == "loinc" and not not_serum.search(display):
            labs["potassium"]["loinc"].setdefault(code, display)
    # Magnesium: serum/plasma only (2597-3 RBC is deliberately absent, clinical.md §2.2)
    sid, concepts = b.pddi("magnesium-LOINC")
    g = group("magnesium", "mmol/L")
    g["sources"].append(sid)
    for system, code, display in concepts:
        if SYSTEM_KEYS.get(system) == "loinc" and not not_serum.search(display):
            g["loinc"][code] = display
    # 25-OH vitamin D: total (62292-8), D3 (1989-3; some labs report the total under it),
    # D3 molar (14635-7). NOT 49054-0 (D2 fraction alone: low whenever the patient takes no
    # D2, so it would flag false deficiency) and NEVER 1990-1 (cholecalciferol itself).
    from_compiled("vitamin-d-25oh", "ng/mL", "vitamin_d_25oh", {"62292-8"})
    # The D3 fraction (1989-3 mass, 14635-7 molar: both "25-Hydroxyvitamin D3" in LOINC and
    # in the compiled list) is its own group: the rules read it only when no total exists
    # and the patient takes no ergocalciferol (D2), whose 25-OH D2 it does not measure.
    from_compiled("vitamin-d3-25oh", "ng/mL", "vitamin_d_25oh", {"1989-3", "14635-7"})
    from_compiled("ck", "U/L", "creatine_kinase")
    from_compiled("d-dimer", "ng/mL", "d_dimer")
    labs["d-dimer"]["text"] = [r"\bd[- ]?dimer\b"]
    from_compiled("tsh", "mIU/L", "tsh")
    from_vsac("egfr", "mL/min/{1.73_m2}", "vsac-ecqm-2025", "2.16.840.1.113883.3.6929.3.1000")
    sid, concepts = b.pddi("renal-LOINC")
    labs["egfr"]["sources"].append(sid)
    for system, code, display in concepts:
        if SYSTEM_KEYS.get(system) == "loinc" and "Glomerular filtration" in display:
            labs["egfr"]["loinc"].setdefault(code, display)
    not_creat_serum = re.compile(r"Urine|clearance|ratio|/creatinine", re.I)
    from_vsac("creatinine", "mg/dL", "vsac-ecqm-2021", "2.16.840.1.113883.3.666.5.2363", not_creat_serum)
    from_vsac("creatinine", "mg/dL", "vsac-ecqm-2025", "2.16.840.1.113762.1.4.1248.21", not_creat_serum)
    from_vsac("hba1c", "%", "vsac-ecqm-2021", "2.16.840.1.113883.3.464.1003.198.12.1013")
    from_vsac("hba1c", "%", "vsac-ecqm-2025", "2.16.840.1.113883.3.464.1003.198.12.1013")
    from_vsac("bmi", "kg/m2", "vsac-ecqm-2021", "2.16.840.1.113883.3.600.1.1490")
    g = group("abi", "{ratio}")
    g["sources"].append("calf_pain_lab_codes")
    # No ABI LOINC is verified (clinical.md §2.6): text only.
    g["text"] = [r"\bankle[- ]brachial\b", r"\babi\b"]
    for g in labs.values():
        g["sources"] = sorted(set(g["sources"]))
    return labs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    b = Builder(args.source)
    medications = build_medications(b)
    labs = build_labs(b)
    conditions = build_conditions(b)
    procedures = build_procedures(b)
    doc = {
        "schema_version": 1,
        "generated_by": "tools/build_terminology.py",
        "system_keys": SYSTEM_KEYS,
        "medications": medications,
        "labs": labs,
        "conditions": conditions,
        "procedures": procedures,
        "sources": dict(sorted(b.sources.items())),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=False) + "\n")
    n_codes = sum(len(v) for grp in conditions.values() for sl in grp["slices"]
                  for k, v in sl.items() if k not in ("source", "rule", "covers"))
    n_proc = sum(len(v) for grp in procedures.values() for sl in grp["slices"]
                 for k, v in sl.items() if k not in ("source", "rule", "covers"))
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KiB): "
          f"{len(medications['rxnorm_products'])} products, "
          f"{len(medications['rxnorm_ingredient_level'])} ingredient-level codes, "
          f"{len(medications['brand_names'])} brands, {len(labs)} lab groups, "
          f"{n_codes} condition codes, {n_proc} procedure codes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
