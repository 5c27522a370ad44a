"""Independent re-derivation of expectTopics from the brief's rule table (sanity check only)."""
import json, re
from datetime import datetime, timezone, date
T = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
STATIN = re.compile(r"statin\b|lipitor", re.I)
KWASTE = re.compile(r"hydrochlorothiazide|chlorthalidone|indapamide|metolazone|furosemide|torsemide|bumetanide|acetazolamide", re.I)
def dt(s):
    if s is None: return None
    if len(s) == 10: s += "T00:00:00+00:00"
    return datetime.fromisoformat(s.replace("Z", "+00:00"))
def days(s): return (T - dt(s)).total_seconds() / 86400
def codes(cc): return [(c.get("system",""), c.get("code","").replace(".","").upper()) for c in (cc or {}).get("coding", [])]
GATE_SCT = {"300954003","10601006","449614009","449615005"}
def is_gate(cs):
    for s, c in cs:
        if s.endswith("sct") and c in GATE_SCT: return True
        if s.endswith("icd-10-cm") and (c in {"M79661","M79662","M79669","M79604","M79605","M79606","G720","R252","M62831","M6281","R600"} or c.startswith("M791")): return True
    return False
def icd(cs, *pref): return any(s.endswith("icd-10-cm") and c.startswith(p) for s, c in cs for p in pref)
def sct(cs, *cc_): return any(s.endswith("sct") and c in cc_ for s, c in cs)

def evaluate(bundle, enc_id):
    R = [e["resource"] for e in bundle["entry"]]
    by = lambda t: [r for r in R if r["resourceType"] == t]
    pat = by("Patient")[0]
    if pat.get("deceasedDateTime") or pat.get("deceasedBoolean"): return set()
    b = date.fromisoformat(pat["birthDate"]); age = T.year - b.year - ((T.month, T.day) < (b.month, b.day))
    meds = []
    for m in by("MedicationRequest"):
        if m["status"] != "active" or m["intent"] not in ("order","plan","original-order") or m.get("doNotPerform"): continue
        name = m.get("medicationCodeableConcept", {}).get("text") or (m.get("contained") or [{}])[0].get("code", {}).get("text", "")
        meds.append(name)
    for m in by("MedicationStatement"):
        if m["status"] not in ("active","intended"): continue
        end = m.get("effectivePeriod", {}).get("end")
        if end and dt(end) < T: continue
        meds.append(m["medicationCodeableConcept"]["text"])
    statin = any(STATIN.search(n) and not re.search("nystatin", n) for n in meds)
    diur = any(KWASTE.search(n) for n in meds)
    estrogen = any(re.search("estrogen|estradiol", n, re.I) for n in meds)
    conds = []
    for c in by("Condition"):
        vs = c.get("verificationStatus", {}).get("coding", [{}])[0].get("code")
        if vs in ("refuted","entered-in-error"): continue
        cl = c.get("clinicalStatus", {}).get("coding", [{}])[0].get("code")
        conds.append((codes(c["code"]), cl, c.get("onsetDateTime") or c.get("recordedDate"), c))
    active = [(cs, d, c) for cs, cl, d, c in conds if cl in ("active","recurrence","relapse")]
    gate_items = [(cs, d) for cs, d, c in active if is_gate(cs) and (d is None or days(d) <= 30)]
    enc = next(e for e in by("Encounter") if e["id"] == enc_id)
    for rc in enc.get("reasonCode", []):
        if is_gate(codes(rc)): gate_items.append((codes(rc), enc["period"]["start"]))
    obs = [o for o in by("Observation") if o["status"] in ("final","amended","corrected","preliminary")]
    for o in obs:
        if is_gate(codes(o["code"])) and days(o["effectiveDateTime"]) <= 30: gate_items.append((codes(o["code"]), o["effectiveDateTime"]))
    gate = bool(gate_items)
    def labs(*loincs):
        out = []
        for o in obs:
            if any(s.endswith("loinc.org") and c in {l.replace(".","") for l in loincs} for s, c in [(s, c) for s, c in codes(o["code"])]) or \
               any(c in loincs for s, c in [(x.get("system"), x.get("code")) for x in o["code"].get("coding", [])]):
                q = o.get("valueQuantity")
                if not q or not isinstance(q.get("value"), (int, float)): continue
                out.append((dt(o["effectiveDateTime"]), q["value"], q.get("code"), o))
        return sorted(out, key=lambda x: x[0], reverse=True)
    def within(l, n): return [x for x in l if (T - x[0]).days <= n]
    topics = set()
    ck = within(labs("2157-6"), 30)
    def uln(o): return (o.get("referenceRange") or [{}])[0].get("high", {}).get("value", 308)
    ck_high = any(v > uln(o) for _, v, _, o in ck)
    if statin and (gate or ck_high): topics.add("statin-muscle-symptoms")
    if any(v >= 10 * uln(o) for _, v, _, o in within(labs("2157-6"), 14)): topics.add("rhabdomyolysis-risk")
    K = within(labs("2823-3","6298-4"), 90); MG = within(labs("19123-9","2601-3"), 90)
    mg_mmol = lambda v, u: v * 0.4114 if u == "mg/dL" else v
    low = (K and K[0][1] < 3.5) or (MG and mg_mmol(MG[0][1], MG[0][2]) < 0.70)
    if diur and low: topics.add("diuretic-electrolyte-depletion")
    if diur and gate and (not K or not MG): topics.add("electrolytes-not-monitored")
    vd = within(labs("62292-8"), 365)
    if vd and (vd[0][1] / 2.496 if vd[0][2] == "nmol/L" else vd[0][1]) < 20 and (gate or statin): topics.add("vitamin-d-deficiency")
    allc = [(cs, cl, d) for cs, cl, d, c in conds]
    bmi = labs("39156-5")
    risk = (age >= 70 or any(icd(cs, *[f"C{i:02d}" for i in range(0, 97)]) or sct(cs, "363346000", "254637007") for cs, _, _ in active)
            or any(sct(cs, "86569001", "77386006") and (d is None or days(d) <= 42) for cs, d, _ in active)
            or any(p["status"] == "completed" and days(p.get("performedDateTime") or p["performedPeriod"]["end"]) <= 28 and p["code"]["coding"][0]["code"] == "609588000" for p in by("Procedure"))
            or any(icd(cs, "Z7401", "Z993", "G81", "G82", "G83", "D685", "D686", "I50", "E66", "Z86718", "Z86711") or sct(cs, "160685001", "42343007", "84114007", "414916001") for cs, _, _ in active)
            or any(icd(cs, "I824", "I26", "I802") or sct(cs, "404223003", "128053003") for cs, _, _ in allc)
            or (bmi and bmi[0][1] >= 30) or estrogen)
    if gate and risk: topics.add("dvt-assessment")
    def recent7(cs_pred):
        return any(cs_pred(cs) and d is not None and days(d) <= 7 for cs, d, _ in active) or \
               any(cs_pred(codes(o["code"])) and days(o["effectiveDateTime"]) <= 7 for o in obs) or \
               any(cs_pred(codes(rc)) for rc in enc.get("reasonCode", []))
    swell = recent7(lambda cs: sct(cs, "449614009", "449615005", "102599008", "248420006"))
    pe = recent7(lambda cs: sct(cs, "267036007", "29857009", "3424008", "271594007") or icd(cs, "R060", "R000", "R079", "R55"))
    dd = within(labs("48065-7"), 7)
    cut = age * 10 if age > 50 else 500
    if gate and (swell or pe or (dd and dd[0][1] >= cut)): topics.add("dvt-red-flags")
    abi = [o["valueQuantity"]["value"] for o in obs if "ankle-brachial" in o["code"].get("text", "").lower()]
    if gate and (any(icd(cs, "I7021", "I739") or sct(cs, "63491006", "399957001", "792845002") for cs, _, _ in active) or any(a <= 0.90 for a in abi)):
        topics.add("peripheral-artery-disease")
    if gate and any(icd(cs, "E0840","E0842","E0940","E0942","E1040","E1042","E1140","E1142","E1340","E1342") for cs, _, _ in active): topics.add("diabetic-neuropathy")
    return topics

man = json.load(open("/work/main/fixtures/manifest.json"))
bad = 0
for c in man:
    got = evaluate(json.load(open("/work/main/fixtures/" + c["file"])), c["encounterId"])
    if got != set(c["expectTopics"]):
        bad += 1; print("DIFF", c["file"], "oracle:", sorted(got), "manifest:", sorted(c["expectTopics"]))
print("checked", len(man), "diffs", bad)
