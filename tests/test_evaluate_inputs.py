"""``calf-cds evaluate`` on test data as real tools write it (issue 7 §4).

The inputs are ``fixtures/inputs/`` (written by ``tools/fixturegen/input_shapes.py`` from
the project's own fixture patients 01, 02 and 09): a Synthea-style ``urn:uuid:`` transaction,
a bulk-export NDJSON set of two patients with absolute references, and a folder holding a
``collection`` Bundle with ``_history`` references and a ``searchset`` Bundle. Each test
checks the cards the source fixture's manifest entry expects (which needs every reference
resolved) and the resource counts reported on standard error.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cds_service.chart_input import READ_TYPES, read_inputs, resolve_references
from cds_service.cli import main
from support import FIXTURES, load_json

INPUTS = FIXTURES / "inputs"
MANIFEST = {e["patientId"]: e for e in load_json(FIXTURES / "manifest.json")}
AT = "2026-11-21T12:00:00Z"


def source_counts(name: str) -> tuple[str, Counter[str], Counter[str]]:
    """Patient id, read-type counts and other-type counts of a source fixture patient."""
    bundle = load_json(FIXTURES / "patients" / name)
    types = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    patient = next(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    read = Counter({t: n for t, n in types.items() if t in READ_TYPES})
    return patient, read, Counter({t: n for t, n in types.items() if t not in READ_TYPES})


P01 = source_counts("01-statin-diuretic-multi-card.json")
P02 = source_counts("02-statin-diuretic-nothing.json")
P09 = source_counts("09-statin-statement-reasoncode-only.json")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    for name in [k for k in os.environ if k.startswith("CALF_CDS_")]:
        monkeypatch.delenv(name)

    def invoke(*args: str) -> Result:
        code = main(["evaluate", *args, "--at", AT])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


def topics(response: dict) -> set[str]:
    return {c["source"]["topic"]["code"] for c in response["cards"]}


def used_line(read: Counter[str]) -> str:
    return f"used {sum(read.values())} resources ("


def test_urn_uuid_transaction_uses_every_clinical_resource(cli: Callable[..., Result]) -> None:
    patient, read, other = P01
    result = cli(str(INPUTS / "01-transaction-urn-uuid.json"))
    assert result.code == 0, result.err
    assert topics(json.loads(result.out)) == set(MANIFEST[patient]["expectTopics"])
    [line] = result.err.strip().splitlines()
    assert used_line(read) in line
    # Practitioner from the fixture + Organization, Claim, ExplanationOfBenefit, Immunization.
    not_read = sum(other.values()) + 4
    assert f"ignored {not_read + 1}: {not_read} type not read by the rules (" in line
    assert "Claim 1" in line and "1 transaction DELETE entry" in line
    assert patient not in result.err  # no patient id on standard error


def test_bulk_ndjson_is_split_by_patient(cli: Callable[..., Result]) -> None:
    result = cli(str(INPUTS / "bulk-ndjson"))
    assert result.code == 0, result.err
    listing = json.loads(result.out)
    by_patient = {item["patientId"]: item["response"] for item in listing}
    assert set(by_patient) == {P01[0], P02[0]}
    for patient, *_ in (P01, P02):
        assert topics(by_patient[patient]) == set(MANIFEST[patient]["expectTopics"])
    lines = result.err.strip().splitlines()
    assert len(lines) == 2
    for (patient, read, other), peer in ((P01, P02), (P02, P01)):
        line = next(ln for ln in lines if used_line(read) in ln)
        # Both Practitioners and both Claims are of types not read; the peer's resources
        # (its Patient included) are another patient's.
        assert f"{sum(other.values()) + sum(peer[2].values()) + 2} type not read" in line
        assert f"{sum(peer[1].values())} another patient's" in line


def test_folder_of_bundles_with_summary(cli: Callable[..., Result]) -> None:
    result = cli(str(INPUTS / "folder"), "--summary")
    assert result.code == 0, result.err
    assert "[" + "#" * 30 + "] 2/2 charts" in result.err  # the progress bar, finished
    used = sum(P09[1].values()) + sum(P02[1].values())
    assert f"charts evaluated: 2 (failed: 0); resources used: {used}, ignored: " in result.out
    expected = Counter(t for p in (P09[0], P02[0]) for t in MANIFEST[p]["expectTopics"])
    rows = {ln.split()[0]: int(ln.split()[1]) for ln in result.out.splitlines()[4:] if ln.strip()}
    assert rows == dict(expected) and expected  # 09: the statin card from an encounter reason


def test_folder_without_summary_reports_each_chart(cli: Callable[..., Result]) -> None:
    result = cli(str(INPUTS / "folder"))
    assert result.code == 0, result.err
    lines = result.err.strip().splitlines()
    assert [ln.split(":", 1)[0] for ln in lines] == ["02-searchset.json", "09-collection-absolute.json"]
    assert used_line(P09[1]) in lines[1] and "ignored" in lines[1]


def test_read_inputs_counts_match_the_source_fixtures() -> None:
    charts = read_inputs(INPUTS / "folder").charts
    assert {c.patient_id: c.used for c in charts} == {P02[0]: P02[1], P09[0]: P09[1]}


def test_references_are_rewritten_to_type_and_id() -> None:
    entries = [
        ("urn:uuid:11111111-1111-4111-8111-111111111111", {"resourceType": "Patient", "id": "p1"}),
        ("urn:uuid:22222222-2222-4222-8222-222222222222", {"resourceType": "Medication"}),  # no id
        (None, {"resourceType": "MedicationRequest", "id": "m1",
                "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                "medicationReference": {"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"}}),
        (None, {"resourceType": "Condition", "id": "c1",
                "subject": {"reference": "https://ehr.example.org/fhir/Patient/p1/_history/3"},
                "encounter": {"reference": "urn:uuid:33333333-3333-4333-8333-333333333333"}}),
        (None, {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient?identifier=x|1"}}),
    ]
    _, medication, request, condition, observation = resolve_references(entries)
    assert medication["id"] == "22222222-2222-4222-8222-222222222222"
    assert request["subject"]["reference"] == "Patient/p1"
    assert request["medicationReference"]["reference"] == "Medication/22222222-2222-4222-8222-222222222222"
    assert condition["subject"]["reference"] == "Patient/p1"
    # What cannot be resolved is left as it is (and then counted as not this patient's).
    assert condition["encounter"]["reference"] == "urn:uuid:33333333-3333-4333-8333-333333333333"
    assert observation["subject"]["reference"] == "Patient?identifier=x|1"


def test_a_directory_without_charts_is_one_line(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "Claim.ndjson").write_text('{"resourceType": "Claim", "id": "c"}\n')
    result = cli(str(tmp_path))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "no Patient" in result.err
    (tmp_path / "broken.ndjson").write_text("{not json\n")
    result = cli(str(tmp_path))
    assert result.code == 2 and "broken.ndjson:1: not a JSON resource" in result.err
