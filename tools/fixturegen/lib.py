"""Tiny builders for realistic FHIR R4 fixture resources (generator, not shipped)."""
from __future__ import annotations
import uuid
from datetime import datetime, timedelta, timezone

T = datetime(2026, 11, 21, 12, 0, 0, tzinfo=timezone.utc)
NS = uuid.UUID("6b0d3c1e-8f7a-4c61-9d0e-2f4b5a6c7d8e")
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
OBSCAT = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
US = "http://hl7.org/fhir/us/core/StructureDefinition/"

INTERP_DISPLAY = {"L": "Low", "LL": "Critical low", "H": "High", "HH": "Critical high", "N": "Normal", "A": "Abnormal"}


def at(days_ago: float, hour: int = 9, minute: int = 0) -> str:
    d = (T - timedelta(days=days_ago)).replace(hour=hour, minute=minute, second=0)
    if d > T:
        raise ValueError(f"date after evaluation time: {d}")
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(days_ago: float) -> str:
    return (T - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def cc(*codings: tuple, text: str | None = None) -> dict:
    out = {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codings]}
    out["text"] = text or codings[0][2]
    return out


PRACTITIONERS = {
    "calf-cds-pract-01": ("Oswin903", "Farrowby17", "9990000011"),
    "calf-cds-pract-02": ("Lenna44", "Quarrie812", "9990000029"),
}


class Chart:
    def __init__(self, pid: str, pract: str = "calf-cds-pract-01") -> None:
        self.pid = pid
        self.pract = pract
        self.entries: list[dict] = []
        self.n: dict[str, int] = {}
        self.context_encounter: str | None = None
        given, family, npi = PRACTITIONERS[pract]
        self._pract_display = f"Dr. {given} {family}"
        self.add({
            "resourceType": "Practitioner", "id": pract,
            "meta": {"profile": [US + "us-core-practitioner"]},
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}],
            "active": True,
            "name": [{"family": family, "given": [given], "prefix": ["Dr."]}],
            "gender": "female" if pract.endswith("2") else "male",
        })

    # -- plumbing -----------------------------------------------------------------
    def rid(self, kind: str, slug: str | None = None) -> str:
        if slug:
            return f"{self.pid}-{kind}-{slug}"
        self.n[kind] = self.n.get(kind, 0) + 1
        return f"{self.pid}-{kind}-{self.n[kind]}"

    def add(self, res: dict) -> dict:
        rtype, rid = res["resourceType"], res["id"]
        self.entries.append({
            "fullUrl": "urn:uuid:" + str(uuid.uuid5(NS, f"{rtype}/{rid}")),
            "resource": res,
            "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
        })
        return res

    @property
    def subj(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    @property
    def requester(self) -> dict:
        return {"reference": f"Practitioner/{self.pract}", "display": self._pract_display}

    def enc_ref(self, enc: str | None) -> dict:
        return {"encounter": {"reference": f"Encounter/{enc}"}} if enc else {}

    def bundle(self, slug: str, bundle_type: str = "transaction") -> dict:
        # "batch" for a chart carrying a deliberately invalid resource: a real FHIR server
        # refuses that entry alone and stores the rest (a transaction would be rolled back
        # whole, and the CDS Hooks sandbox's server would have no patient to open)
        return {
            "resourceType": "Bundle", "id": f"calf-cds-{slug}", "type": bundle_type,
            "meta": {"lastUpdated": "2026-11-21T11:00:00Z", "tag": [{
                "system": "https://example.org/calf-cds/fixture", "code": "synthetic",
                "display": "Invented test data; evaluation time 2026-11-21T12:00:00Z"}]},
            "entry": self.entries,
        }

    # -- resources ----------------------------------------------------------------
    def patient(self, given: str, family: str, gender: str, birth: str, *, deceased: str | None = None,
                race=("2106-3", "White"), eth=("2186-5", "Not Hispanic or Latino"), marital="M",
                city="Springfield", mrn: str = "") -> dict:
        prefix = {"male": "Mr.", "female": "Mrs." if marital == "M" else "Ms."}[gender]
        res = {
            "resourceType": "Patient", "id": self.pid,
            "meta": {"profile": [US + "us-core-patient"]},
            "text": {"status": "generated",
                     "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{prefix} {given} {family}: synthetic calf-cds test patient (invented data).</div>'},
            "extension": [
                {"url": US + "us-core-race", "extension": [
                    {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": race[0], "display": race[1]}},
                    {"url": "text", "valueString": race[1]}]},
                {"url": US + "us-core-ethnicity", "extension": [
                    {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": eth[0], "display": eth[1]}},
                    {"url": "text", "valueString": eth[1]}]},
                {"url": US + "us-core-birthsex", "valueCode": "M" if gender == "male" else "F"},
            ],
            "identifier": [
                {"system": "https://example.org/calf-cds/synthetic-id", "value": self.pid},
                {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical Record Number"}], "text": "Medical Record Number"},
                 "system": "https://example.org/calf-cds/mrn", "value": mrn or self.pid.upper()},
            ],
            "name": [{"use": "official", "family": family, "given": [given], "prefix": [prefix]}],
            "telecom": [{"system": "phone", "value": "", "use": "home"}],
            "gender": gender, "birthDate": birth,
        }
        if deceased:
            res["deceasedDateTime"] = deceased
        res["address"] = [{"line": [f"{10 + len(family) * 7} Example Street"], "city": city, "state": "MA", "postalCode": "01101", "country": "US"}]
        res["maritalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": marital,
                                            "display": {"M": "Married", "S": "Never Married", "W": "Widowed", "D": "Divorced"}[marital]}], "text": marital}
        res["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US", "display": "English (United States)"}], "text": "English (United States)"}}]
        # Patient.telecom above uses hash(): replace with a deterministic number
        res["telecom"][0]["value"] = "555-01%02d-%04d" % (sum(map(ord, self.pid)) % 100, sum(map(ord, family)) * 7 % 10000)
        return self.add(res)

    def encounter(self, start: str, end: str | None = None, *, slug: str, kind=("185349003", "Encounter for check up (procedure)"),
                  reasons: list[dict] | None = None, status: str | None = None, context: bool = False, cls="AMB") -> str:
        eid = self.rid("enc", slug)
        res = {
            "resourceType": "Encounter", "id": eid,
            "meta": {"profile": [US + "us-core-encounter"]},
            "identifier": [{"use": "official", "system": "https://example.org/calf-cds/encounter", "value": eid}],
            "status": status or ("finished" if end else "in-progress"),
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": cls,
                      "display": {"AMB": "ambulatory", "EMER": "emergency"}[cls]},
            "type": [cc((SCT, kind[0], kind[1]))],
            "subject": self.subj,
            "participant": [{"type": [cc(("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer"))],
                             "individual": self.requester}],
            "period": {"start": start, **({"end": end} if end else {})},
        }
        if reasons:
            res["reasonCode"] = reasons
        res["serviceProvider"] = {"display": "EXAMPLE FAMILY PRACTICE"}
        self.add(res)
        if context:
            self.context_encounter = eid
        return eid

    def condition(self, code: dict, *, slug: str | None = None, onset: str | None = None, recorded: str | None = None,
                  clinical: str | None = "active", verification: str = "confirmed", category: str = "problem-list-item",
                  enc: str | None = None, abatement: str | None = None, body_site: dict | None = None, note: str | None = None) -> str:
        cid = self.rid("cond", slug)
        res: dict = {"resourceType": "Condition", "id": cid,
                     "meta": {"profile": [US + ("us-core-condition-problems-health-concerns" if category != "encounter-diagnosis" else "us-core-condition-encounter-diagnosis")]}}
        if clinical:
            res["clinicalStatus"] = cc(("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical, clinical.capitalize()))
        res["verificationStatus"] = cc(("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification, verification.replace("-", " ").capitalize()))
        res["category"] = [cc(("http://terminology.hl7.org/CodeSystem/condition-category", category,
                                {"problem-list-item": "Problem List Item", "encounter-diagnosis": "Encounter Diagnosis"}[category]))]
        res["code"] = code
        if body_site:
            res["bodySite"] = [body_site]
        res["subject"] = self.subj
        res.update(self.enc_ref(enc))
        if onset:
            res["onsetDateTime"] = onset
        if abatement:
            res["abatementDateTime"] = abatement
        if recorded:
            res["recordedDate"] = recorded
            res["recorder"] = self.requester
        if note:
            res["note"] = [{"text": note}]
        self.add(res)
        return cid

    def _dosage(self, text: str, per_day: int = 1, prn: bool = False) -> list[dict]:
        d = {"sequence": 1, "text": text, "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
             "asNeededBoolean": prn, "route": cc((SCT, "26643006", "Oral route (qualifier value)")),
             "doseAndRate": [{"type": cc(("http://terminology.hl7.org/CodeSystem/dose-rate-type", "ordered", "Ordered")),
                              "doseQuantity": {"value": 1, "unit": "tablet", "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "TAB"}}]}
        return [d]

    def med_request(self, rx: tuple[str, str] | None, *, slug: str | None = None, authored: str, status: str = "active",
                    intent: str = "order", dose: str = "Take 1 tablet by mouth once daily", per_day: int = 1, prn: bool = False,
                    enc: str | None = None, contained: tuple[str, str] | None = None, do_not_perform: bool = False,
                    reason: dict | None = None, status_reason: dict | None = None, refills: int = 3, days_supply: int = 90,
                    extra_codings: list[tuple] | None = None, text: str | None = None, note: str | None = None) -> str:
        mid = self.rid("medreq", slug)
        res: dict = {"resourceType": "MedicationRequest", "id": mid,
                     "meta": {"profile": [US + "us-core-medicationrequest"]}}
        if contained:
            res["contained"] = [{"resourceType": "Medication", "id": "med1",
                                 "code": cc((RX, contained[0], contained[1])),
                                 "form": cc((SCT, "421026006", "Oral tablet (dose form)"))}]
        res["status"] = status
        if status_reason:
            res["statusReason"] = status_reason
        res["intent"] = intent
        res["category"] = [cc(("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community", "Community"), text="Community")]
        if do_not_perform:
            res["doNotPerform"] = True
        if contained:
            res["medicationReference"] = {"reference": "#med1", "display": contained[1]}
        else:
            # (code, display) is RxNorm; (system, code, display) is another (local) code system
            first = rx if len(rx) == 3 else (RX, rx[0], rx[1])
            codings = [first] + list(extra_codings or [])
            res["medicationCodeableConcept"] = cc(*codings, text=text or first[2])
        res["subject"] = self.subj
        res.update(self.enc_ref(enc))
        res["authoredOn"] = authored
        res["requester"] = self.requester
        if reason:
            res["reasonCode"] = [reason]
        if note:
            res["note"] = [{"text": note}]
        res["dosageInstruction"] = self._dosage(dose, per_day, prn)
        res["dispenseRequest"] = {"numberOfRepeatsAllowed": refills,
                                  "quantity": {"value": days_supply * per_day, "unit": "tablet", "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "TAB"},
                                  "expectedSupplyDuration": {"value": days_supply, "unit": "days", "system": UCUM, "code": "d"}}
        self.add(res)
        return mid

    def med_statement(self, rx: tuple[str, str], *, slug: str | None = None, start: str, end: str | None = None,
                      status: str = "active", asserted: str, dose: str = "1 tablet by mouth daily", source: str = "patient",
                      reason: dict | None = None, note: str | None = None) -> str:
        sid = self.rid("medstmt", slug)
        res: dict = {"resourceType": "MedicationStatement", "id": sid, "status": status,
                     "category": cc(("http://terminology.hl7.org/CodeSystem/medication-statement-category",
                                     "patientspecified" if source == "patient" else "community",
                                     "Patient Specified" if source == "patient" else "Community")),
                     "medicationCodeableConcept": cc((RX, rx[0], rx[1])),
                     "subject": self.subj,
                     "effectivePeriod": {"start": start, **({"end": end} if end else {})},
                     "dateAsserted": asserted,
                     "informationSource": self.subj if source == "patient" else self.requester}
        if reason:
            res["reasonCode"] = [reason]
        if note:
            res["note"] = [{"text": note}]
        res["dosage"] = [{"text": dose, "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                          "route": cc((SCT, "26643006", "Oral route (qualifier value)"))}]
        self.add(res)
        return sid

    def lab(self, loinc: str, display: str, value: float | None, unit: str | None, ucum: str | None, when: str, *,
            slug: str | None = None, low: float | None = None, high: float | None = None, interp: str | None = None,
            status: str = "final", enc: str | None = None, value_string: str | None = None, text: str | None = None,
            note: str | None = None, ref_text: str | None = None, code: dict | None = None, category: str = "laboratory") -> str:
        oid = self.rid("obs", slug)
        res: dict = {"resourceType": "Observation", "id": oid,
                     "meta": {"profile": [US + "us-core-observation-lab"]} if category == "laboratory" else {},
                     "status": status,
                     "category": [cc((OBSCAT, category, {"laboratory": "Laboratory", "exam": "Exam", "procedure": "Procedure"}[category]))],
                     "code": code or cc((LOINC, loinc, display), text=text or display),
                     "subject": self.subj}
        if not res["meta"]:
            del res["meta"]
        res.update(self.enc_ref(enc))
        res["effectiveDateTime"] = when
        res["issued"] = when.replace(":00Z", ":00.000Z") if status != "cancelled" else when
        if value is not None:
            q = {"value": value}
            if unit:
                q["unit"] = unit
            if ucum:
                q["system"] = UCUM
                q["code"] = ucum
            res["valueQuantity"] = q
        elif value_string is not None:
            res["valueString"] = value_string
        else:
            res["dataAbsentReason"] = cc(("http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-performed", "Not Performed"))
        if interp:
            res["interpretation"] = [cc((INTERP, interp, INTERP_DISPLAY[interp]))]
        if note:
            res["note"] = [{"text": note}]
        if low is not None or high is not None or ref_text:
            rr: dict = {}
            if low is not None:
                rr["low"] = {"value": low, **({"unit": unit, "system": UCUM, "code": ucum} if ucum else {})}
            if high is not None:
                rr["high"] = {"value": high, **({"unit": unit, "system": UCUM, "code": ucum} if ucum else {})}
            if ref_text:
                rr["text"] = ref_text
            res["referenceRange"] = [rr]
        self.add(res)
        return oid

    def finding_obs(self, code: dict, when: str, *, slug: str | None = None, enc: str | None = None,
                    body_site: dict | None = None, note: str | None = None) -> str:
        oid = self.rid("obs", slug)
        res: dict = {"resourceType": "Observation", "id": oid, "status": "final",
                     "category": [cc((OBSCAT, "exam", "Exam"))], "code": code, "subject": self.subj}
        res.update(self.enc_ref(enc))
        res["effectiveDateTime"] = when
        res["issued"] = when
        res["performer"] = [self.requester]
        res["valueBoolean"] = True
        if body_site:
            res["bodySite"] = body_site
        if note:
            res["note"] = [{"text": note}]
        self.add(res)
        return oid

    def vitals(self, when: str, *, enc: str | None = None, sbp=128, dbp=80, hr=72, rr=16, bmi: float | None = None,
               weight: float | None = None, height: float | None = None) -> None:
        def vs(loinc, display, profile):
            return {"resourceType": "Observation", "id": self.rid("obs"), "meta": {"profile": [US + profile]},
                    "status": "final", "category": [cc((OBSCAT, "vital-signs", "Vital Signs"))],
                    "code": cc((LOINC, loinc, display)), "subject": self.subj, **self.enc_ref(enc),
                    "effectiveDateTime": when, "issued": when}
        bp = vs("85354-9", "Blood pressure panel with all children optional", "us-core-blood-pressure")
        bp["component"] = [
            {"code": cc((LOINC, "8480-6", "Systolic blood pressure")), "valueQuantity": {"value": sbp, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}},
            {"code": cc((LOINC, "8462-4", "Diastolic blood pressure")), "valueQuantity": {"value": dbp, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}]
        self.add(bp)
        o = vs("8867-4", "Heart rate", "us-core-heart-rate"); o["valueQuantity"] = {"value": hr, "unit": "/min", "system": UCUM, "code": "/min"}; self.add(o)
        o = vs("9279-1", "Respiratory rate", "us-core-respiratory-rate"); o["valueQuantity"] = {"value": rr, "unit": "/min", "system": UCUM, "code": "/min"}; self.add(o)
        if height is not None:
            o = vs("8302-2", "Body height", "us-core-body-height"); o["valueQuantity"] = {"value": height, "unit": "cm", "system": UCUM, "code": "cm"}; self.add(o)
        if weight is not None:
            o = vs("29463-7", "Body weight", "us-core-body-weight"); o["valueQuantity"] = {"value": weight, "unit": "kg", "system": UCUM, "code": "kg"}; self.add(o)
        if bmi is not None:
            o = vs("39156-5", "Body mass index (BMI) [Ratio]", "us-core-bmi"); o["valueQuantity"] = {"value": bmi, "unit": "kg/m2", "system": UCUM, "code": "kg/m2"}; self.add(o)

    def smoking(self, when: str, status=("266919005", "Never smoked tobacco (finding)"), enc: str | None = None) -> None:
        self.add({"resourceType": "Observation", "id": self.rid("obs", "smoking"), "meta": {"profile": [US + "us-core-smokingstatus"]},
                  "status": "final", "category": [cc((OBSCAT, "social-history", "Social History"))],
                  "code": cc((LOINC, "72166-2", "Tobacco smoking status")), "subject": self.subj, **self.enc_ref(enc),
                  "effectiveDateTime": when, "issued": when, "valueCodeableConcept": cc((SCT, status[0], status[1]))})

    def procedure(self, code: dict, when: str, *, slug: str | None = None, enc: str | None = None, end: str | None = None,
                  reason: dict | None = None, body_site: dict | None = None) -> str:
        prid = self.rid("proc", slug)
        res: dict = {"resourceType": "Procedure", "id": prid, "meta": {"profile": [US + "us-core-procedure"]},
                     "status": "completed", "code": code, "subject": self.subj, **self.enc_ref(enc)}
        if end:
            res["performedPeriod"] = {"start": when, "end": end}
        else:
            res["performedDateTime"] = when
        res["performer"] = [{"actor": self.requester}]
        if reason:
            res["reasonCode"] = [reason]
        if body_site:
            res["bodySite"] = [body_site]
        self.add(res)
        return prid

    def allergy(self, code: dict, recorded: str, reaction: dict | None = None) -> str:
        aid = self.rid("allergy")
        res = {"resourceType": "AllergyIntolerance", "id": aid, "meta": {"profile": [US + "us-core-allergyintolerance"]},
               "clinicalStatus": cc(("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")),
               "verificationStatus": cc(("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed")),
               "type": "allergy", "category": ["medication"], "criticality": "low", "code": code, "patient": self.subj,
               "recordedDate": recorded}
        if reaction:
            res["reaction"] = [{"manifestation": [reaction], "severity": "mild"}]
        self.add(res)
        return aid
