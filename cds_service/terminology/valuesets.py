"""Terminology look-ups: medication classes, lab groups, condition and procedure groups.

The data are built at build time by ``tools/build_terminology.py`` into
``cds_service/data/terminology.json`` and loaded once at start-up into dict/set look-ups
(``Terminology.load()``). Matching conventions follow clinical.md §0:

- medications: product code → ingredient-level code (IN/MIN/PIN/BN) → ATC → word-boundary
  name match in display/text (lower confidence, ``match_path="text"``);
- ICD-10-CM is compared dot-less and upper-case, with prefix matching on categories where
  clinical.md allows it; SNOMED CT and RxNorm are matched exactly, never by prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from cds_service.vocabulary import (
    AMIODARONE,
    AMLODIPINE,
    CICLOSPORIN,
    CYP3A4_STRONG_INHIBITOR,
    DANAZOL,
    DILTIAZEM,
    DRONEDARONE,
    FIBRATE,
    GEMFIBROZIL,
    LEG_WARMTH_REDNESS,
    RANOLAZINE,
    VERAPAMIL,
    PE_SYMPTOM,
    STATIN,
    STATIN_INTERACTING,
    SYMPTOM_GROUPS,
    MatchPath,
)

# A statin combination product (amlodipine/atorvastatin, fenofibrate/simvastatin ...) is
# dosed as approved: its companion ingredient is not an *added* interacting drug.
STATIN_COMPANION_CLASSES = frozenset({
    STATIN_INTERACTING, AMLODIPINE, AMIODARONE, CICLOSPORIN, CYP3A4_STRONG_INHIBITOR, DANAZOL,
    DILTIAZEM, DRONEDARONE, FIBRATE, GEMFIBROZIL, RANOLAZINE, VERAPAMIL,
})

# Finding groups that EHRs chart as Observations (symptoms and DVT/PE signs)
_OBSERVATION_FINDING_GROUPS = SYMPTOM_GROUPS | {LEG_WARMTH_REDNESS, PE_SYMPTOM}

DATA_PACKAGE = "cds_service.data"
DATA_FILE = "terminology.json"

# Code-system URIs (and their OID forms) → the short keys used in the data file.
_SYSTEM_ALIASES: dict[str, str] = {
    "http://snomed.info/sct": "sct",
    "urn:oid:2.16.840.1.113883.6.96": "sct",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "urn:oid:2.16.840.1.113883.6.90": "icd10cm",
    # WHO ICD-10 shares the category structure used here (C00–C96, I26, I80, I82 …); codes
    # sent under it are compared like ICD-10-CM (documented in docs/extraction.md).
    "http://hl7.org/fhir/sid/icd-10": "icd10cm",
    "urn:oid:2.16.840.1.113883.6.3": "icd10cm",
    "http://hl7.org/fhir/sid/icd-9-cm": "icd9cm",
    "urn:oid:2.16.840.1.113883.6.103": "icd9cm",
    "http://www.cms.gov/Medicare/Coding/ICD10": "icd10pcs",
    "urn:oid:2.16.840.1.113883.6.4": "icd10pcs",
    "http://www.ama-assn.org/go/cpt": "cpt",
    "urn:oid:2.16.840.1.113883.6.12": "cpt",
    "http://loinc.org": "loinc",
    "urn:oid:2.16.840.1.113883.6.1": "loinc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "urn:oid:2.16.840.1.113883.6.88": "rxnorm",
    "http://www.whocc.no/atc": "atc",
    "urn:oid:2.16.840.1.113883.6.73": "atc",
}


PREFIX_KEY = "icd10cm_prefixes"
_SLICE_META = frozenset({"source", "rule", "covers"})


def _slice_codes(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """(system key, code) pairs of a group's slices; ICD-10-CM category prefixes come with
    the key ``icd10cm_prefixes``. Each slice records the source its codes came from."""
    for piece in entry.get("slices", ()):
        for key, codes in piece.items():
            if key not in _SLICE_META:
                for code in codes:
                    yield key, code


def system_key(system: object) -> str | None:
    """Short key ("sct", "icd10cm", "loinc", "rxnorm", "atc" …) of a code-system URI.

    Anything but a non-empty string (broken FHIR) has no key."""
    if not system or not isinstance(system, str):
        return None
    return _SYSTEM_ALIASES.get(system.rstrip("/"))


def normalise_code(key: str | None, code: str) -> str:
    """ICD codes compare dot-less and upper-case (clinical.md §0.4); others verbatim."""
    if key in ("icd10cm", "icd9cm", "icd10pcs"):
        return code.replace(".", "").strip().upper()
    if key == "atc":
        return code.strip().upper()
    return code.strip()


@dataclass(frozen=True, slots=True)
class MedicationMatch:
    """How a medication concept was classified."""

    classes: frozenset[str]
    match_path: MatchPath
    ingredients: tuple[str, ...]


def _word_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({re.escape(w) for w in words if w}, key=len, reverse=True)
    if not alternatives:
        return None
    # Word boundary on letters AND digits: "losartan potassium" never yields "potassium"
    # classes, "fibromyalgia" never "myalgia".
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])", re.I)


class Terminology:
    """In-memory look-up tables built from ``data/terminology.json``."""

    MEMO_LIMIT = 50_000
    MEMO_KEY_LIMIT = 4096

    def __init__(self, doc: Mapping[str, Any]) -> None:
        # Classification results per distinct concept, shared by every request (a chart's
        # vital signs repeat the same few codes thousands of times). Bounded.
        self.memo: dict[Any, Any] = {}
        meds = doc["medications"]
        self.sources: dict[str, dict[str, Any]] = dict(doc["sources"])
        self.ingredients: dict[str, dict[str, Any]] = dict(meds["ingredients"])
        self._ingredient_classes: dict[str, frozenset[str]] = {
            name: frozenset(entry["classes"]) for name, entry in self.ingredients.items()
        }
        self._products: dict[str, tuple[str, ...]] = {
            code: tuple(names) for code, names in meds["rxnorm_products"].items()
        }
        self._ingredient_codes: dict[str, tuple[str, ...]] = {
            code: tuple(names) for code, names in meds["rxnorm_ingredient_level"].items()
        }
        atc: dict[str, tuple[str, ...]] = {}
        for name, entry in self.ingredients.items():
            for code in entry["atc"]:
                atc[code.upper()] = (*atc.get(code.upper(), ()), name)
        for code, combination in meds["atc_combinations"].items():
            atc[code.upper()] = tuple(combination)
        self._atc = atc
        self._atc_prefixes: dict[str, frozenset[str]] = {
            p.upper(): frozenset(c) for p, c in meds["atc_prefixes"].items()
        }
        self.medication_class_sources: dict[str, list[str]] = dict(meds["class_sources"])
        names: dict[str, tuple[str, ...]] = {}
        for name, entry in self.ingredients.items():
            names[name] = (name,)
            for alias in entry["aliases"]:
                names[alias.lower()] = (name,)
        for brand, ingredients in meds["brand_names"].items():
            names.setdefault(brand.lower(), tuple(ingredients))
        self._text_names = names
        self._text_regex = _word_regex(names)
        # Classes that mean systemic exposure only: a concept naming a local route (eye
        # drops, creams ...) loses them (or gets the local class, e.g. corticosteroid-local).
        route = meds.get("local_route")
        self._local_route = re.compile(route, re.I) if route else None
        self._systemic_only: dict[str, str | None] = dict(meds.get("systemic_only", {}))

        # labs
        self.lab_units: dict[str, str] = {}
        self.lab_sources: dict[str, list[str]] = {}
        self._loinc: dict[str, str] = {}
        self._lab_text: list[tuple[str, re.Pattern[str]]] = []
        for group, entry in doc["labs"].items():
            self.lab_units[group] = entry["unit"]
            self.lab_sources[group] = list(entry["sources"])
            for code in entry["loinc"]:
                self._loinc[code] = group
            for pattern in entry.get("text", []):
                self._lab_text.append((group, re.compile(pattern, re.I)))

        # conditions and procedures
        self.condition_sources: dict[str, list[str]] = {}
        self._cond_exact: dict[tuple[str, str], frozenset[str]] = {}
        self._cond_prefix: dict[str, frozenset[str]] = {}
        exact: dict[tuple[str, str], set[str]] = {}
        prefix: dict[str, set[str]] = {}
        for group, entry in doc["conditions"].items():
            self.condition_sources[group] = list(entry["sources"])
            for key, code in _slice_codes(entry):
                if key == PREFIX_KEY:
                    prefix.setdefault(code, set()).add(group)
                else:
                    exact.setdefault((key, code), set()).add(group)
        self._cond_exact = {k: frozenset(v) for k, v in exact.items()}
        self._cond_prefix = {k: frozenset(v) for k, v in prefix.items()}
        self._prefix_lengths = sorted({len(p) for p in self._cond_prefix})

        self.procedure_sources: dict[str, list[str]] = {}
        proc_exact: dict[tuple[str, str], set[str]] = {}
        self._proc_text: list[tuple[str, re.Pattern[str]]] = []
        for group, entry in doc["procedures"].items():
            self.procedure_sources[group] = list(entry["sources"])
            for key, code in _slice_codes(entry):
                proc_exact.setdefault((key, normalise_code(key, code)), set()).add(group)
            for pattern in entry.get("text", []):
                self._proc_text.append((group, re.compile(pattern, re.I)))
        self._proc_exact = {k: frozenset(v) for k, v in proc_exact.items()}

    # --- loading ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> Terminology:
        """Load the shipped terminology (or ``path``); call once at start-up."""
        if path is None:
            raw = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_bytes()
        else:
            raw = Path(path).read_bytes()
        return cls(orjson.loads(raw))

    # --- medications --------------------------------------------------------------------
    def _classes_of(self, ingredients: Iterable[str]) -> frozenset[str]:
        classes: set[str] = set()
        for name in ingredients:
            classes |= self._ingredient_classes.get(name, frozenset())
        # A statin combination product (amlodipine/atorvastatin …) is dosed as approved;
        # its companion ingredient is not flagged as an *added* interacting drug. The
        # ingredient names stay visible to the rules.
        if STATIN in classes:
            classes -= STATIN_COMPANION_CLASSES
        return frozenset(classes)

    def _systemic(self, match: MedicationMatch | None, texts: Iterable[str]) -> MedicationMatch | None:
        """Drop systemic-only classes when the concept names a local route."""
        if match is None or self._local_route is None:
            return match
        hit = match.classes & self._systemic_only.keys()
        if not hit or not any(self._local_route.search(t) for t in texts):
            return match
        classes = set(match.classes) - hit
        classes |= {r for c in hit if (r := self._systemic_only[c])}
        if not classes:
            return None
        return MedicationMatch(frozenset(classes), match.match_path, match.ingredients)

    def _match(self, ingredients: Iterable[str], path: MatchPath) -> MedicationMatch | None:
        names = tuple(sorted(set(ingredients)))
        classes = self._classes_of(names)
        if not classes:
            return None
        return MedicationMatch(classes=classes, match_path=path, ingredients=names)

    def classify_medication(
        self, codings: Iterable[Mapping[str, Any]], texts: Iterable[str | None] = ()
    ) -> MedicationMatch | None:
        """Classify a medication concept from its codings and free texts.

        Order (clinical.md §0.1): product code, ingredient-level code, ATC, then a
        word-boundary ingredient/brand-name match in ``coding.display`` and ``texts``.
        """
        coding_list = [c for c in codings if isinstance(c, Mapping)]
        text_list = [t for t in [*(c.get("display") for c in coding_list), *texts] if isinstance(t, str)]
        return self._systemic(self._classify(coding_list, text_list), text_list)

    def _classify(self, coding_list: list[Mapping[str, Any]], text_list: list[str]) -> MedicationMatch | None:
        for path in ("product", "ingredient", "atc"):
            found: list[str] = []
            prefix_classes: set[str] = set()
            for coding in coding_list:
                key = system_key(coding.get("system"))
                code = coding.get("code")
                if not isinstance(code, str):
                    continue
                code = normalise_code(key, code)
                if path == "product" and key == "rxnorm":
                    found += self._products.get(code, ())
                elif path == "ingredient" and key == "rxnorm":
                    found += self._ingredient_codes.get(code, ())
                elif path == "atc" and key == "atc":
                    if code in self._atc:
                        found += self._atc[code]
                    else:
                        for p, classes in self._atc_prefixes.items():
                            if code.startswith(p):
                                prefix_classes |= classes
            if found:
                match = self._match(found, path)
                if match is not None:
                    return match
            if prefix_classes:
                return MedicationMatch(frozenset(prefix_classes), "atc", ())
        return self._classify_text(" | ".join(text_list))

    def classify_text(self, text: str) -> MedicationMatch | None:
        """Name-only classification (``match_path="text"``)."""
        return self._systemic(self._classify_text(text), [text])

    def _classify_text(self, text: str) -> MedicationMatch | None:
        if not text or self._text_regex is None:
            return None
        found: list[str] = []
        for m in self._text_regex.finditer(text):
            found += self._text_names[m.group(0).lower()]
        return self._match(found, "text") if found else None

    # --- labs ---------------------------------------------------------------------------
    def lab_group(self, system: str | None, code: str | None) -> str | None:
        """Lab group of a LOINC coding, or None."""
        if not isinstance(code, str) or system_key(system) != "loinc":
            return None
        return self._loinc.get(code.strip())

    def lab_group_by_text(self, text: str | None) -> str | None:
        """Lab group recognised by name only (D-dimer, ABI: clinical.md §2.5, §2.6)."""
        if not text:
            return None
        for group, pattern in self._lab_text:
            if pattern.search(text):
                return group
        return None

    def observation_search_codes(self) -> list[str]:
        """``system|code`` tokens for an Observation prefetch query: every lab LOINC plus
        the SNOMED codes of the symptom / red-flag finding groups."""
        tokens = {f"http://loinc.org|{code}" for code in self._loinc}
        for (key, code), groups in self._cond_exact.items():
            if key == "sct" and groups & _OBSERVATION_FINDING_GROUPS:
                tokens.add(f"http://snomed.info/sct|{code}")
        return sorted(tokens)

    # --- conditions ---------------------------------------------------------------------
    def condition_groups(self, system: str | None, code: str | None) -> frozenset[str]:
        """Condition/finding groups of one coding (SNOMED exact; ICD exact or prefix)."""
        key = system_key(system)
        if key is None or not code or not isinstance(code, str):
            return frozenset()
        norm = normalise_code(key, code)
        groups = self._cond_exact.get((key, norm), frozenset())
        if key == "icd10cm":
            for length in self._prefix_lengths:
                if length > len(norm):
                    break
                extra = self._cond_prefix.get(norm[:length])
                if extra:
                    groups = groups | extra
        return groups

    def codings_groups(self, codings: Iterable[Mapping[str, Any]]) -> frozenset[str]:
        """Union of ``condition_groups`` over a list of codings."""
        out: frozenset[str] = frozenset()
        for coding in codings:
            if isinstance(coding, Mapping):
                out = out | self.condition_groups(coding.get("system"), coding.get("code"))
        return out

    # --- procedures ---------------------------------------------------------------------
    def procedure_groups(
        self, codings: Iterable[Mapping[str, Any]], text: str | None = None
    ) -> frozenset[str]:
        """Procedure groups by code (surgery sets) or by text (casts, splints)."""
        groups: set[str] = set()
        texts = [text] if text else []
        for coding in codings:
            if not isinstance(coding, Mapping):
                continue
            key = system_key(coding.get("system"))
            code = coding.get("code")
            if key and isinstance(code, str):
                groups |= self._proc_exact.get((key, normalise_code(key, code)), frozenset())
            if isinstance(coding.get("display"), str):
                texts.append(coding["display"])
        joined = " | ".join(texts)
        if joined:
            for group, pattern in self._proc_text:
                if pattern.search(joined):
                    groups.add(group)
        return frozenset(groups)

    def remember(self, key: Any, value: Any) -> None:
        """Store a memoised classification (the memo is cleared when it is full). A key
        longer than ``MEMO_KEY_LIMIT`` bytes (a concept's JSON; real ones are a few hundred)
        is not stored, so a client cannot fill the memo with large concepts."""
        if isinstance(key, (bytes, str)) and len(key) > self.MEMO_KEY_LIMIT:
            return
        if len(self.memo) >= self.MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = value

    def cite(self, source_id: str) -> str:
        """One-line human citation of a source id (for docs and cards)."""
        s = self.sources.get(source_id, {})
        parts = [s.get("title") or source_id]
        if s.get("oid"):
            parts.append(f"OID {s['oid']}")
        if s.get("version"):
            parts.append(f"version {s['version']}")
        if s.get("expansion"):
            parts.append(f"expansion {s['expansion']}")
        return ", ".join(parts)
