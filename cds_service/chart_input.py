"""Test data as real tools write it, turned into one chart per patient for ``evaluate``.

Accepted (issue 7 §4): ``transaction``, ``batch``, ``collection`` and ``searchset`` Bundles
whose references are ``urn:uuid:`` full URLs (Synthea) or absolute URLs; NDJSON (FHIR bulk
export: one resource per line, one file per type or several); single-resource JSON files
(a folder of them, e.g. an eCQM test case); or a directory of any of these. Each Bundle is
its own source; loose resources (NDJSON lines, single-resource files) of one directory are
pooled and split by Patient.

References are rewritten to the relative ``Type/id`` form the service matches on: a
reference equal to an entry's ``fullUrl`` becomes that entry's ``Type/id``, and an absolute
RESTful URL (``https://host/fhir/Patient/123[/_history/n]``) becomes ``Patient/123``. A
resource is then *used* when its type is one the rules read and it belongs to the chart's
Patient (``Medication`` belongs to every chart of its source); everything else is
*ignored*, counted with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .prefetch import belongs_to

Resource = dict[str, Any]

# The resource types the rules read (the calf-pain-review prefetch keys).
READ_TYPES = frozenset({
    "Patient", "Encounter", "MedicationRequest", "MedicationStatement", "Medication",
    "Observation", "Condition", "Procedure",
})
_UNLINKED = frozenset({"Patient", "Medication"})
_RESTFUL = re.compile(r"^(?:https?://\S+/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/\S+)?$")
BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset"})

IGNORED_TYPE = "type not read by the rules"
IGNORED_OTHER = "another patient's"
IGNORED_UNLINKED = "no reference to a patient"
IGNORED_NO_RESOURCE = "entry without a resource"
IGNORED_DELETE = "transaction DELETE entry"
IGNORED_NOT_RESOURCE = "not a FHIR resource"


class InputError(ValueError):
    """The input cannot be read at all (one line for standard error)."""


@dataclass
class Chart:
    """One patient's resources from one source, ready for ``request_from_resources``."""

    source: str
    patient_id: str
    resources: list[Resource]
    ignored: Counter[str] = field(default_factory=Counter)  # reason -> count
    ignored_types: Counter[str] = field(default_factory=Counter)  # resourceType -> count

    @property
    def used(self) -> Counter[str]:
        return Counter(str(r.get("resourceType")) for r in self.resources)

    def report(self) -> str:
        """``used N (types); ignored M: reasons`` for standard error (no patient id)."""
        used = self.used
        n = sum(used.values())
        text = f"used {n} resource{'s' if n != 1 else ''} ({_counts(used)})"
        total = sum(self.ignored.values())
        if not total:
            return text + "; ignored none"
        reasons = []
        for reason, count in self.ignored.most_common():
            detail = f" ({_counts(self.ignored_types, 6)})" if reason == IGNORED_TYPE else ""
            reasons.append(f"{count} {reason}{detail}")
        return f"{text}; ignored {total}: " + ", ".join(reasons)


def _counts(counter: Counter[str], limit: int = 12) -> str:
    items = counter.most_common()
    text = ", ".join(f"{name} {n}" for name, n in items[:limit])
    if len(items) > limit:
        text += f", {len(items) - limit} more types"
    return text or "none"


# -- references ---------------------------------------------------------------------------


def resolve_references(entries: Iterable[tuple[str | None, Resource]]) -> list[Resource]:
    """The resources, their references rewritten to ``Type/id`` (see the module docstring).

    ``entries`` are ``(fullUrl, resource)`` pairs; a resource without ``id`` whose full
    URL is ``urn:uuid:X`` gets ``id`` X, so references to it can be matched.
    """
    pairs = list(entries)
    by_full_url: dict[str, str] = {}
    for full_url, resource in pairs:
        rtype = resource.get("resourceType")
        if not isinstance(full_url, str) or not full_url or not isinstance(rtype, str):
            continue
        if "id" not in resource and full_url.startswith("urn:uuid:"):
            resource["id"] = full_url.removeprefix("urn:uuid:")
        if isinstance(resource.get("id"), str):
            by_full_url[full_url] = f"{rtype}/{resource['id']}"
    resources = [resource for _, resource in pairs]
    for resource in resources:
        _rewrite(resource, by_full_url)
    return resources


def _rewrite(node: Any, by_full_url: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                node[key] = _relative(value, by_full_url)
            else:
                _rewrite(value, by_full_url)
    elif isinstance(node, list):
        for item in node:
            _rewrite(item, by_full_url)


def _relative(reference: str, by_full_url: dict[str, str]) -> str:
    if reference in by_full_url:
        return by_full_url[reference]
    match = _RESTFUL.match(reference)
    if match and (reference.startswith(("http://", "https://")) or "/_history/" in reference):
        return f"{match.group(1)}/{match.group(2)}"
    return reference


# -- charts -------------------------------------------------------------------------------


def charts_from_resources(
    source: str, resources: list[Resource], patient_id: str | None = None,
    ignored: Counter[str] | None = None,
) -> list[Chart]:
    """One chart per Patient in ``resources`` (only ``patient_id`` when given)."""
    patients = [r for r in resources if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str)]
    ids = [str(p["id"]) for p in patients]
    if patient_id is not None:
        ids = [patient_id]
    charts = []
    for pid in dict.fromkeys(ids):
        chart = Chart(source=source, patient_id=pid, resources=[], ignored=Counter(ignored or {}))
        for resource in resources:
            rtype = resource.get("resourceType")
            if rtype not in READ_TYPES:
                chart.ignored[IGNORED_TYPE] += 1
                chart.ignored_types[str(rtype)] += 1
            elif belongs_to(resource, pid):
                chart.resources.append(resource)
            elif rtype in _UNLINKED or _links_a_patient(resource):
                chart.ignored[IGNORED_OTHER] += 1
            else:
                chart.ignored[IGNORED_UNLINKED] += 1
        charts.append(chart)
    return charts


def _links_a_patient(resource: Resource) -> bool:
    for name in ("subject", "patient"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str) and (
            "Patient/" in ref["reference"] or ref["reference"].startswith("urn:uuid:")
        ):
            return True
    return False


def bundle_entries(bundle: Resource) -> tuple[list[tuple[str | None, Resource]], Counter[str]]:
    """``(fullUrl, resource)`` pairs of a Bundle, and the entries skipped (by reason)."""
    skipped: Counter[str] = Counter()
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise InputError("Bundle.entry must be a list")
    pairs: list[tuple[str | None, Resource]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            skipped[IGNORED_NO_RESOURCE] += 1
            continue
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") == "DELETE":
            skipped[IGNORED_DELETE] += 1
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            skipped[IGNORED_NO_RESOURCE] += 1
            continue
        full_url = entry.get("fullUrl")
        pairs.append((full_url if isinstance(full_url, str) else None, resource))
    return pairs, skipped


def charts_from_bundle(source: str, bundle: Resource, patient_id: str | None = None) -> list[Chart]:
    pairs, skipped = bundle_entries(bundle)
    return charts_from_resources(source, resolve_references(pairs), patient_id, skipped)


# -- files --------------------------------------------------------------------------------


@dataclass
class Inputs:
    """What a path holds: hook requests (evaluated as they are) and charts."""

    requests: list[tuple[str, Resource]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


def read_inputs(path: Path, patient_id: str | None = None) -> Inputs:
    """Read a file or a directory (recursively, ``*.json`` and ``*.ndjson``, sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson"))
        if not files:
            raise InputError(f"{path}: no .json or .ndjson file in this directory")
        base = path
    else:
        files, base = [path], path.parent
    inputs = Inputs()
    loose: list[tuple[str | None, Resource]] = []
    loose_skipped: Counter[str] = Counter()
    for file in files:
        name = str(file.relative_to(base))
        for document in _documents(file):
            if not isinstance(document, dict) or not isinstance(document.get("resourceType") or document.get("hook"), str):
                loose_skipped[IGNORED_NOT_RESOURCE] += 1
            elif "hook" in document:
                inputs.requests.append((name, document))
            elif document.get("resourceType") == "Bundle" and document.get("type") in BUNDLE_TYPES:
                inputs.charts.extend(charts_from_bundle(name, document, patient_id))
            else:
                loose.append((None, document))
    if loose:
        source = path.name + ("/" if path.is_dir() else "")
        inputs.charts.extend(
            charts_from_resources(source, resolve_references(loose), patient_id, loose_skipped)
        )
    return inputs


def _documents(file: Path) -> Iterator[Any]:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if file.suffix == ".ndjson":
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                raise InputError(f"{file}:{number}: not a JSON resource") from None
        return
    try:
        yield orjson.loads(data)
    except orjson.JSONDecodeError:
        raise InputError(f"{file}: not JSON") from None
