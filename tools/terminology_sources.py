"""Slice-recording helpers for the condition and procedure groups (build time only).

Every code of a group is written as part of a *slice*: the codes one source contributed
under one rule (``{"source": id, "rule": text, "sct": [...], "icd10cm": [...],
"icd10cm_prefixes": [...]}``). Codes a filter dropped from a source are written under
``excluded`` with the same rule, so the coverage report can show them. The sources are:

- a VSAC expansion (``vsac:<OID>:<year>``), kept whole or filtered by a documented rule;
- the ICD-10-CM tabular list (``icd10cm-2026``): a category and its descendants, minus
  named subcategories, checked against the CDC April-2026 release (PyPI simple-icd-10-cm);
- an assembled SNOMED CT list (``snomed-closure:<id>``, ``tools/sources/snomed_closures.json``)
  where subsumption is needed and no expansion exists.

A SNOMED CT code named by hand must be found in one of the available expansions (it is then
attributed to it) or in an assembled list; otherwise the build stops.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Protocol

import simple_icd_10_cm as icd10  # build-time dependency (extra "terminology")

ICD_SOURCE = "icd10cm-2026"
CLOSURE_FILE = Path(__file__).resolve().parent / "sources" / "snomed_closures.json"
SYSTEM_KEYS = {
    "http://snomed.info/sct": "sct",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "http://hl7.org/fhir/sid/icd-9-cm": "icd9cm",
    "http://www.cms.gov/Medicare/Coding/ICD10": "icd10pcs",
    "http://www.ama-assn.org/go/cpt": "cpt",
}


class SourceRegistry(Protocol):
    sources: dict[str, dict[str, Any]]

    def vsac(self, folder: str, oid: str) -> tuple[str, list[dict[str, str]]]: ...

    def vsac_files(self) -> list[tuple[str, str]]: ...

    def add_source(self, sid: str, **fields: Any) -> str: ...


def icd_key(code: str) -> str:
    return code.replace(".", "").strip().upper()


class Groups:
    """Condition or procedure groups built as slices."""

    def __init__(self, b: SourceRegistry) -> None:
        self.b = b
        self.groups: dict[str, dict[str, Any]] = {}
        self._index: dict[str, list[tuple[str, str]]] | None = None
        self.closures: dict[str, Any] = json.loads(CLOSURE_FILE.read_text())["closures"]

    def g(self, name: str) -> dict[str, Any]:
        return self.groups.setdefault(name, {"slices": [], "excluded": [], "unverified": set(),
                                             "text": [], "text_sources": set()})

    def _slice(self, name: str, source: str, rule: str | None, codes: dict[str, set[str]],
               prefixes: set[str] | None = None, store: str = "slices") -> None:
        entry: dict[str, Any] = {"source": source}
        if rule:
            entry["rule"] = rule
        meta = len(entry)
        for key in sorted(codes):
            if codes[key]:
                entry[key] = sorted(codes[key])
        if prefixes:
            entry["icd10cm_prefixes"] = sorted(prefixes)
        if len(entry) > meta:
            self.g(name)[store].append(entry)

    # --- VSAC ---------------------------------------------------------------------------
    def vsac(self, name: str, folder: str, oid: str, keep: re.Pattern[str] | None = None,
             drop: re.Pattern[str] | None = None, systems: set[str] | None = None,
             rule: str | None = None, keep_code: Any = None) -> str:
        """Add a VSAC expansion to a group. ``keep`` selects a named subset by display (the
        rest is simply not taken); ``drop`` (display) and ``keep_code(key, code)`` are
        exclusion filters, and the codes they drop are recorded under ``excluded``. A
        system filter is not an exclusion either (that side comes from another source)."""
        sid, contains = self.b.vsac(folder, oid)
        kept: dict[str, set[str]] = defaultdict(set)
        dropped: dict[str, set[str]] = defaultdict(set)
        for c in contains:
            key = SYSTEM_KEYS.get(c["system"])
            if key is None or (systems and key not in systems):
                continue
            code = icd_key(c["code"]) if key in ("icd10cm", "icd9cm", "icd10pcs") else c["code"]
            display = c.get("display", "")
            if keep is not None and not keep.search(display):
                continue  # not selected (the slice is a named subset of the expansion)
            ok = not (drop and drop.search(display))
            if ok and keep_code is not None:
                ok = keep_code(key, c["code"])
            (kept if ok else dropped)[key].add(code)
        filtered = keep is not None or drop is not None or keep_code is not None
        if rule is None and filtered:
            raise SystemExit(f"{name}: a filtered source needs a documented rule ({oid})")
        self._slice(name, sid, rule, kept)
        if dropped:
            self._slice(name, sid, rule, dropped, store="excluded")
        return sid

    # --- ICD-10-CM tabular list -----------------------------------------------------------
    def _categories_in(self, block: str) -> list[str]:
        lo, hi = block.split("-")
        return sorted(c for c in icd10.get_all_codes(with_dots=True)
                      if icd10.is_category(c) and lo <= c <= hi)

    def icd_tree(self, name: str, roots: list[str], exclude: tuple[str, ...] = (),
                 rule: str | None = None) -> None:
        """Descendants of ICD-10-CM categories/blocks, minus the ``exclude`` subtrees."""
        for code in (*roots, *exclude):
            if not icd10.is_valid_item(code):
                raise SystemExit(f"{name}: {code} is not in the ICD-10-CM tabular list")
        excl = {icd_key(e) for e in exclude}
        prefixes: set[str] = set()
        dropped: set[str] = set()

        def cover(node: str) -> None:
            key = icd_key(node)
            if key in excl:
                dropped.add(key)
                return
            if any(e.startswith(key) and e != key for e in excl):
                for child in icd10.get_children(node):
                    cover(child)
                return
            prefixes.add(key)
            leaves[0] += sum(1 for d in [node, *icd10.get_descendants(node)] if icd10.is_leaf(d))

        leaves = [0]
        for root in roots:
            if icd10.is_block(root) and "-" in root:
                for cat in self._categories_in(root):
                    cover(cat)
            else:
                cover(root)
        text = rule or ("ICD-10-CM tabular list: " + ", ".join(roots) + " and descendants"
                        + (" except " + ", ".join(exclude) if exclude else ""))
        self._slice(name, ICD_SOURCE, text, {}, prefixes)
        self.g(name)["slices"][-1]["covers"] = leaves[0]  # leaf codes of the April 2026 list
        if dropped:
            self.g(name)["excluded"].append({"source": ICD_SOURCE, "rule": text,
                                             "icd10cm_prefixes": sorted(dropped)})

    def icd_codes(self, name: str, codes: list[str], rule: str) -> None:
        """Single ICD-10-CM codes (each checked against the tabular list)."""
        for code in codes:
            if not icd10.is_valid_item(code):
                raise SystemExit(f"{name}: {code} is not in the ICD-10-CM tabular list")
        self._slice(name, ICD_SOURCE, rule, {"icd10cm": {icd_key(c) for c in codes}})

    # --- SNOMED CT ------------------------------------------------------------------------
    def _vsac_index(self) -> dict[str, list[tuple[str, str]]]:
        if self._index is None:
            index: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for folder, path in self.b.vsac_files():
                vs = json.loads(Path(path).read_text())
                for c in vs.get("expansion", {}).get("contains", []):
                    if c.get("system") == "http://snomed.info/sct":
                        # file name: ValueSet-<OID>-<slug>.json (some ids are not the OID)
                        index[c["code"]].append((folder, Path(path).name.split("-")[1]))
            self._index = index
        return self._index

    def snomed(self, name: str, codes: list[str], why: str) -> None:
        """SNOMED CT codes named for a group: each is attributed to the first expansion
        that holds it, else to the assembled list that holds it."""
        by_source: dict[str, set[str]] = defaultdict(set)
        for code in codes:
            hits = self._vsac_index().get(code)
            if hits:
                folder, oid = sorted(hits)[0]
                sid, _ = self.b.vsac(folder, oid)
                by_source[sid].add(code)
                continue
            cid = next((k for k, v in self.closures.items()
                        if any(m["code"] == code for m in v["members"])), None)
            if cid is None:
                raise SystemExit(f"{name}: SNOMED CT {code} has no published source")
            by_source[self._closure_source(cid)].add(code)
        for sid, found in sorted(by_source.items()):
            self._slice(name, sid, why, {"sct": found})

    def _closure_source(self, cid: str) -> str:
        c = self.closures[cid]
        sid = f"snomed-closure:{cid}"
        self.b.add_source(sid, title=f"Assembled SNOMED CT list: {c['root']['display']} "
                          f"({c['root']['code']}) and the subtypes listed", oid=None,
                          file="tools/sources/snomed_closures.json", version=None,
                          expansion=None, origin="assembled for calf-cds (method in the file)")
        return sid

    def closure(self, name: str, cid: str, why: str) -> None:
        """All members of an assembled SNOMED CT list."""
        members = {m["code"] for m in self.closures[cid]["members"]}
        self._slice(name, self._closure_source(cid), why, {"sct": members})

    # --- text -----------------------------------------------------------------------------
    def text(self, name: str, patterns: list[str], source: str) -> None:
        grp = self.g(name)
        grp["text"] += patterns
        grp["text_sources"].add(source)

    def finish(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, grp in sorted(self.groups.items()):
            sources = {s["source"] for s in grp["slices"]} | grp["text_sources"]
            res: dict[str, Any] = {"sources": sorted(sources), "slices": grp["slices"]}
            if grp["excluded"]:
                res["excluded"] = grp["excluded"]
            if grp["text"]:
                res["text"] = grp["text"]
            if grp["unverified"]:
                res["unverified"] = sorted(grp["unverified"])
            out[name] = res
        return out
