from lib import Chart, at, day, cc, SCT, ICD, LOINC, UCUM
from codes import *

SMS = "statin-muscle-symptoms"; RHB = "rhabdomyolysis-risk"; DED = "diuretic-electrolyte-depletion"
ENM = "electrolytes-not-monitored"; VDD = "vitamin-d-deficiency"; DVA = "dvt-assessment"
DRF = "dvt-red-flags"; PAD = "peripheral-artery-disease"; DNP = "diabetic-neuropathy"

FIXTURES = []


def fixture(fn):
    FIXTURES.append(fn)
    return fn


# ---------------------------------------------------------------- shared pieces
def base(ch: Chart, *, reasons=None, kind=SYMPTOM, bmi=25.0, height=170.0, hr=74, sbp=128, dbp=80,
         prior_days=160, prior_bmi=None, smoking=("266919005", "Never smoked tobacco (finding)"), context_status=None,
         context_day=0):
    """Prior check-up (vitals, med reconciliation, BMP) and today's context encounter (vitals)."""
    weight = round(bmi * (height / 100) ** 2, 1)
    prior = ch.encounter(at(prior_days, 14, 0), at(prior_days, 14, 30), slug="checkup", kind=CHECKUP)
    ch.vitals(at(prior_days, 14, 5), enc=prior, sbp=sbp + 4, dbp=dbp + 2, hr=hr - 2, bmi=prior_bmi or bmi,
              weight=round((prior_bmi or bmi) * (height / 100) ** 2, 1), height=height)
    ch.smoking(at(prior_days, 14, 6), smoking, enc=prior)
    ch.procedure(MEDREC, at(prior_days, 14, 10), enc=prior, end=at(prior_days, 14, 25))
    ch.lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 0.9, "mg/dL", "mg/dL", at(prior_days, 14, 20),
           enc=prior, low=0.6, high=1.3, interp="N", slug="creat-checkup")
    ch.lab("2951-2", "Sodium [Moles/volume] in Serum or Plasma", 139, "mmol/L", "mmol/L", at(prior_days, 14, 20),
           enc=prior, low=135, high=145, slug="na-checkup")
    end = at(context_day, 10, 55) if context_status == "finished" else None
    ctx = ch.encounter(at(context_day, 10, 30), end, slug="today" if context_day == 0 else "last", kind=kind,
                       reasons=reasons, context=True, status=context_status)
    ch.vitals(at(context_day, 10, 35), enc=ctx, sbp=sbp, dbp=dbp, hr=hr, bmi=bmi, weight=weight)
    return prior, ctx


def silent(**kw):
    names = {"SMS": SMS, "RHB": RHB, "DED": DED, "ENM": ENM, "VDD": VDD, "DVA": DVA, "DRF": DRF, "PAD": PAD, "DNP": DNP}
    return [{"topic": names[k], "why": v} for k, v in kw.items()]


NO_RISK = "no DVT risk factor: age < 70, BMI < 30, no cancer/pregnancy/surgery/immobility/prior VTE/thrombophilia/estrogen/heart failure"


# ---------------------------------------------------------------- 01 multi-card
@fixture
def f01():
    ch = Chart("calf-multi-01")
    ch.patient("Bertram411", "Okonkwo-Hale62", "male", "1958-03-02")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=31.4, height=179, hr=76, sbp=138, dbp=84,
                      smoking=("8517006", "Ex-smoker (finding)"))
    ch.condition(HTN, onset=at(4000), recorded=at(4000))
    ch.condition(HLD, onset=at(2200), recorded=at(2200))
    ch.condition(T2DM_NEURO, onset=at(1400), recorded=at(1400))
    ch.condition(CLAUD_L, onset=at(420), recorded=at(420), note="Cramping left calf after ~200 m walking, relieved by rest.")
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(12), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    ch.med_request(ATORVA_40, slug="atorvastatin", authored=at(640), reason=HLD, enc=prior)
    ch.med_request(HCTZ_25, slug="hctz", authored=at(900), reason=HTN)
    ch.med_request(LISINOPRIL_10, authored=at(1500), reason=HTN)
    ch.med_request(METFORMIN_ER, authored=at(1390), dose="Take 1 tablet by mouth twice daily with meals", per_day=2, reason=T2DM_NEURO)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.1, "mmol/L", "mmol/L", at(9, 8, 10), slug="k", low=3.5, high=5.1, interp="L")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.78, "mmol/L", "mmol/L", at(9, 8, 10), slug="mg", low=0.70, high=1.00, interp="N")
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 520, "U/L", "U/L", at(9, 8, 10), slug="ck", low=39, high=308, interp="H")
    ch.lab("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma", 14, "ng/mL", "ng/mL", at(60, 8, 30), slug="vitd", low=30, high=100, interp="L")
    ch.lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 7.4, "%", "%", at(60, 8, 30), low=4.0, high=5.6, interp="H")
    return ch, {
        "description": "68-year-old man on atorvastatin 40 mg and hydrochlorothiazide with left calf pain (12 days), K 3.1, CK 1.7x ULN, 25-OH D 14 ng/mL, BMI 31.4, claudication and diabetic polyneuropathy: many cards at once.",
        "expectTopics": [SMS, DED, VDD, DVA, PAD, DNP],
        "expectIndicators": {DED: "warning", DVA: "info"},
        "silentTopics": silent(RHB="CK 520 U/L is 1.7x ULN (308), below 10x", ENM="K and Mg both measured 9 days ago",
                               DRF="no swelling/warmth/PE symptom/D-dimer recorded; heart rate 76"),
    }


# ---------------------------------------------------------------- 02 nothing
@fixture
def f02():
    ch = Chart("calf-nothing-02", "calf-cds-pract-02")
    ch.patient("Imelda88", "Prosser-Vance3", "female", "1968-07-19")
    prior, ctx = base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=26.2, height=163, hr=70)
    ch.condition(HTN, onset=at(3000), recorded=at(3000))
    ch.condition(HLD, onset=at(2500), recorded=at(2500))
    ch.condition(RHINITIS_ICD, onset=at(5000), recorded=at(5000))
    ch.med_request(ROSU_10, slug="rosuvastatin", authored=at(700), reason=HLD)
    ch.med_request(CHLORTHALIDONE_25, slug="chlorthalidone", authored=at(500), reason=HTN)
    ch.med_request(ACETAMINOPHEN, authored=at(300), dose="Take 2 tablets by mouth every 6 hours as needed for pain", prn=True, refills=0, days_supply=30)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.3, "mmol/L", "mmol/L", at(20, 8), slug="k", low=3.5, high=5.1, interp="N")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.84, "mmol/L", "mmol/L", at(20, 8), slug="mg", low=0.70, high=1.00, interp="N")
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 110, "U/L", "U/L", at(20, 8), slug="ck", low=26, high=192, interp="N")
    ch.lab("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma", 34, "ng/mL", "ng/mL", at(150, 8), slug="vitd", low=30, high=100, interp="N")
    return ch, {
        "description": "58-year-old woman on rosuvastatin and chlorthalidone, normal K/Mg/CK/vitamin D, no muscle or leg symptoms: no cards at all.",
        "expectTopics": [],
        "silentTopics": silent(SMS="statin current but no symptom and CK 110 within range", DED="K 4.3 and Mg 0.84 normal",
                               ENM="no symptom gate (and K/Mg measured 20 days ago)", VDD="25-OH D 34 ng/mL",
                               DVA="no symptom gate", DRF="no symptom gate", RHB="CK normal"),
    }


# ---------------------------------------------------------------- 03 deceased
@fixture
def f03():
    ch = Chart("calf-deceased-03")
    ch.patient("Osgood602", "Lindqvist-Barre9", "male", "1962-01-30", deceased="2026-11-19T22:10:00Z", marital="W")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], kind=SYMPTOM, bmi=25.4, height=176, hr=78, context_status="finished", context_day=3)
    ch.condition(HTN, onset=at(3500), recorded=at(3500))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(9), recorded=at(3, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(SIMVA_20, slug="simvastatin", authored=at(800), reason=HLD)
    ch.med_request(AMLODIPINE_5, authored=at(1200), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.1, "mmol/L", "mmol/L", at(3, 10, 45), slug="k", low=3.5, high=5.1, interp="N")
    return ch, {
        "description": "64-year-old man on simvastatin with right calf pain, but the Patient has deceasedDateTime 2026-11-19: no cards for a deceased patient. Context encounter is his last visit (3 days earlier).",
        "expectTopics": [],
        "silentTopics": silent(SMS="patient is deceased (Patient.deceasedDateTime 2026-11-19)"),
    }


# ---------------------------------------------------------------- 04 K < 2.5
@fixture
def f04():
    ch = Chart("calf-hypok-04")
    ch.patient("Casimir17", "Adeyemi-Rourke5", "male", "1964-05-08")
    prior, ctx = base(ch, reasons=[WEAKNESS_ICD], kind=SYMPTOM, bmi=24.8, height=181, hr=88, sbp=146, dbp=90)
    ch.condition(HTN, onset=at(2800), recorded=at(2800))
    ch.condition(CKD3A, onset=at(700), recorded=at(700))
    ch.condition(WEAKNESS_ICD, slug="weakness", onset=at(4), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis",
                 note="Generalised weakness and leg cramps for 4 days.")
    ch.med_request(FUROSEMIDE_40, slug="furosemide", authored=at(110), dose="Take 1 tablet by mouth twice daily", per_day=2, reason=HTN)
    ch.med_request(AMLODIPINE_5, authored=at(1800), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 2.3, "mmol/L", "mmol/L", at(2, 8, 40), slug="k", low=3.5, high=5.1, interp="LL",
           note="Critical value called to Dr. Farrowby17.")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.74, "mmol/L", "mmol/L", at(2, 8, 40), slug="mg", low=0.70, high=1.00, interp="N")
    ch.lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.5, "mg/dL", "mg/dL", at(2, 8, 40), low=0.7, high=1.3, interp="H")
    return ch, {
        "description": "62-year-old man on furosemide 40 mg twice daily with potassium 2.3 mmol/L two days ago and muscle weakness: critical diuretic-electrolyte card.",
        "expectTopics": [DED],
        "expectIndicators": {DED: "critical"},
        "silentTopics": silent(ENM="K and Mg both measured 2 days ago", SMS="no statin", DVA=NO_RISK + " (CKD is not one)"),
    }


# ---------------------------------------------------------------- 05 rhabdo on simvastatin
@fixture
def f05():
    ch = Chart("calf-rhabdo-05", "calf-cds-pract-02")
    ch.patient("Thaddeus54", "Marchetti-Oyelaran8", "male", "1967-10-11")
    prior, ctx = base(ch, reasons=[MYALGIA_OTHER_ICD], kind=SYMPTOM, bmi=27.9, height=174, hr=92)
    ch.condition(HTN, onset=at(2000), recorded=at(2000))
    ch.condition(HLD, onset=at(1500), recorded=at(1500))
    ch.condition(MYALGIA_OTHER_ICD, slug="myalgia", onset=at(5), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis",
                 note="Aching both calves and thighs, dark urine since yesterday.")
    ch.med_request(SIMVA_40, slug="simvastatin", authored=at(990), dose="Take 1 tablet by mouth at bedtime", reason=HLD)
    ch.med_request(AMLODIPINE_5, authored=at(1900), reason=HTN)
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 4620, "U/L", "U/L", at(2, 9), slug="ck", low=39, high=308, interp="HH")
    ch.lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.6, "mg/dL", "mg/dL", at(2, 9), low=0.7, high=1.3, interp="H")
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.6, "mmol/L", "mmol/L", at(2, 9), slug="k", low=3.5, high=5.1, interp="N")
    return ch, {
        "description": "59-year-old man on simvastatin 40 mg with myalgia (ICD-10-CM M79.18 only) and CK 4620 U/L = 15x ULN two days ago: rhabdomyolysis card only (it suppresses the statin card).",
        "expectTopics": [RHB],
        "expectIndicators": {RHB: "critical"},
        "silentTopics": silent(SMS="rhabdomyolysis-risk fires and suppresses it (it names the statin)", DVA=NO_RISK,
                               DED="no diuretic", ENM="no diuretic"),
    }


# ---------------------------------------------------------------- 06 stopped statin
@fixture
def f06():
    ch = Chart("calf-stopped-06")
    ch.patient("Rosalind23", "Achterberg-Nwosu4", "female", "1971-02-14")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=23.9, height=166, hr=68)
    ch.condition(HLD, onset=at(900), recorded=at(900))
    ch.condition(GERD_ICD, onset=at(3000), recorded=at(3000))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(6), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(ATORVA_20, slug="atorvastatin-stopped", authored=at(670), status="stopped",
                   status_reason={"text": "Patient preference"},
                   note="Stopped 2026-03: patient preferred to try diet first.", reason=HLD)
    ch.med_request(EZETIMIBE, slug="ezetimibe", authored=at(250), reason=HLD)
    return ch, {
        "description": "55-year-old woman with right calf pain whose atorvastatin order is status 'stopped' (now on ezetimibe only): no statin card.",
        "expectTopics": [],
        "silentTopics": silent(SMS="the only statin MedicationRequest is status stopped; ezetimibe is not a statin", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 07 non-current statin orders
@fixture
def f07():
    ch = Chart("calf-notcurrent-07")
    ch.patient("Leopold71", "Vasquez-Imrie2", "male", "1966-01-09")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=26.4, height=178, hr=71)
    ch.condition(HLD, onset=at(400), recorded=at(400))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(3), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(ROSU_20, slug="rosuvastatin-proposal", authored=at(40), intent="proposal", reason=HLD,
                   note="Proposed by pharmacist; awaiting prescriber review.")
    ch.med_request(PRAVA_40, slug="pravastatin-dnp", authored=at(40), do_not_perform=True, reason=HLD,
                   note="Do not prescribe pravastatin: previous intolerance (nausea).")
    ch.med_request(ACETAMINOPHEN, authored=at(30), dose="Take 2 tablets by mouth every 6 hours as needed", prn=True, refills=0, days_supply=30)
    return ch, {
        "description": "60-year-old man with left calf pain; a rosuvastatin request with intent 'proposal' and a pravastatin request with doNotPerform=true: neither is a current statin.",
        "expectTopics": [],
        "silentTopics": silent(SMS="statin requests are intent=proposal and doNotPerform=true; neither counts", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 08 diuretic not current
@fixture
def f08():
    ch = Chart("calf-diurold-08", "calf-cds-pract-02")
    ch.patient("Henrietta9", "Sorensen-Achebe31", "female", "1960-09-03")
    prior, ctx = base(ch, reasons=[CRAMP_ICD], bmi=27.0, height=160, hr=73, prior_days=200)
    ch.condition(HTN, onset=at(4000), recorded=at(4000))
    ch.condition(OA_KNEE, onset=at(1800), recorded=at(1800))
    ch.condition(CRAMP_ICD, slug="cramps", onset=at(8), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_statement(HCTZ_25, slug="hctz-ended", start=at(1400), end=at(60), asserted=at(60), source="clinician",
                     note="Switched to amlodipine at cardiology visit.")
    ch.med_request(FUROSEMIDE_20, slug="furosemide-stopped", authored=at(300), status="stopped", reason=HTN)
    ch.med_request(AMLODIPINE_5, authored=at(60), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.0, "mmol/L", "mmol/L", at(200, 14, 20), slug="k", low=3.5, high=5.1, interp="N")
    return ch, {
        "description": "66-year-old woman with leg cramps; hydrochlorothiazide MedicationStatement still 'active' but its effectivePeriod ended 60 days ago, and furosemide is stopped; no K in 90 days: no diuretic is current, so no electrolyte cards.",
        "expectTopics": [],
        "silentTopics": silent(ENM="no current K-wasting diuretic (statement ended 60 days ago, request stopped)",
                               DED="no current K-wasting diuretic and no recent K", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 09 statement + reasonCode only
@fixture
def f09():
    ch = Chart("calf-reason-09")
    ch.patient("Desmond30", "Kowalczyk-Ibe7", "male", "1974-12-02", marital="S")
    prior, ctx = base(ch, reasons=[CALF_PAIN_ANY], kind=SYMPTOM, bmi=28.3, height=183, hr=69)
    ch.condition(HLD, onset=at(800), recorded=at(800))
    ch.condition(ASTHMA_ICD, onset=at(2500), recorded=at(2500))
    ch.condition(SINUSITIS, onset=at(1500), recorded=at(1500))
    ch.med_statement(ATORVA_10, slug="atorvastatin", start=at(570), asserted=at(160), source="clinician", reason=HLD)
    ch.med_statement(FLUTICASONE, start=at(2400), asserted=at(160), dose="2 puffs inhaled twice daily")
    return ch, {
        "description": "51-year-old man taking atorvastatin (MedicationStatement, active); calf pain lives only in today's Encounter.reasonCode (no Condition): statin card.",
        "expectTopics": [SMS],
        "silentTopics": silent(DVA=NO_RISK, VDD="no vitamin D result"),
    }


# ---------------------------------------------------------------- 10 contained Medication + CK above lab ULN
@fixture
def f10():
    ch = Chart("calf-ckhigh-10", "calf-cds-pract-02")
    ch.patient("Agatha85", "Ferreira-Lund40", "female", "1963-06-21")
    prior, ctx = base(ch, reasons=[HLD], kind=FOLLOWUP, bmi=24.0, height=165, hr=66)
    ch.condition(HLD, onset=at(1200), recorded=at(1200))
    ch.condition(ASTHMA_ICD, onset=at(9000), recorded=at(9000))
    ch.med_request(None, slug="pitavastatin", authored=at(400), contained=PITAVA_2, reason=HLD)
    ch.med_request(ALBUTEROL, authored=at(365), dose="Inhale 2 puffs every 4 hours as needed for wheeze", prn=True)
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 260, "U/L", "U/L", at(12, 8, 15), slug="ck", low=26, high=192, interp="H")
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.4, "mmol/L", "mmol/L", at(12, 8, 15), slug="k", low=3.5, high=5.1, interp="N")
    return ch, {
        "description": "63-year-old woman on pitavastatin (medicationReference to a contained Medication), no symptoms, CK 260 U/L above the lab's female ULN 192 (but below the 308 default): statin card from CK alone.",
        "expectTopics": [SMS],
        "silentTopics": silent(RHB="CK 260 is 1.35x ULN", DVA="no symptom gate"),
    }


# ---------------------------------------------------------------- 11 SCDC code, CK 9x ULN
@fixture
def f11():
    ch = Chart("calf-ck9x-11")
    ch.patient("Ignatius8", "Halvorsen-Mbeki55", "male", "1966-04-04")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=27.2, height=177, hr=80)
    ch.condition(HLD, onset=at(1000), recorded=at(1000))
    ch.condition(HTN, onset=at(1100), recorded=at(1100))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(3), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(ROSU_20_SCDC, slug="rosuvastatin-scdc", authored=at(300), reason=HLD, text="rosuvastatin 20 mg tablet")
    ch.med_request(LISINOPRIL_10, authored=at(1100), reason=HTN)
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 1800, "U/L", "U/L", at(5, 9), slug="ck", low=21, high=200, interp="H")
    ch.lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.0, "mg/dL", "mg/dL", at(5, 9), low=0.7, high=1.3, interp="N")
    return ch, {
        "description": "60-year-old man on rosuvastatin coded only by its SCDC component (859750) with left calf pain and CK 1800 U/L = 9x the lab ULN of 200: statin card, no rhabdomyolysis card.",
        "expectTopics": [SMS],
        "silentTopics": silent(RHB="CK 1800 U/L is 9x the referenceRange.high of 200 (below 10x)", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 12 exertional CK, default ULN
@fixture
def f12():
    ch = Chart("calf-exertional-12", "calf-cds-pract-02")
    ch.patient("Caspian12", "Obuya-Strand6", "male", "1992-08-15", marital="S")
    prior, ctx = base(ch, reasons=[MYALGIA_ICD], bmi=22.8, height=184, hr=64, sbp=118, dbp=72)
    ch.condition(MYALGIA_ICD, slug="myalgia", onset=at(3), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis",
                 note="Severe calf and thigh soreness after an ultramarathon 3 days ago.")
    ch.med_statement(IBUPROFEN, start=at(3), asserted=at(0, 10, 40), dose="2 tablets by mouth every 6 hours as needed")
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 3900, "U/L", "U/L", at(1, 9), slug="ck", interp="HH")
    ch.lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.2, "mg/dL", "mg/dL", at(1, 9), low=0.7, high=1.3, interp="N")
    return ch, {
        "description": "34-year-old man after an ultramarathon, no statin, CK 3900 U/L with no referenceRange (default ULN 308: 12.7x) one day ago: rhabdomyolysis card only.",
        "expectTopics": [RHB],
        "silentTopics": silent(SMS="no statin", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 13 very high CK but 20 days old
@fixture
def f13():
    ch = Chart("calf-ckold-13")
    ch.patient("Winifred50", "Castellanos-Brody2", "female", "1965-11-30")
    prior, ctx = base(ch, reasons=[HLD], kind=FOLLOWUP, bmi=25.6, height=168, hr=72)
    ch.condition(HLD, onset=at(900), recorded=at(900))
    ch.condition(IBS_ICD, onset=at(4000), recorded=at(4000))
    ch.med_request(ATORVA_80, slug="atorvastatin", authored=at(200), reason=HLD)
    ch.lab("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 6500, "U/L", "U/L", at(20, 9), slug="ck", low=39, high=308, interp="HH",
           note="Sample drawn after fall while hiking.")
    return ch, {
        "description": "61-year-old woman on atorvastatin 80 mg, no symptoms today, CK 6500 U/L (21x ULN) drawn 20 days ago: statin card (CK above ULN within 30 days) but no rhabdomyolysis card (outside 14 days).",
        "expectTopics": [SMS],
        "silentTopics": silent(RHB="CK 21x ULN is 20 days old (window 14 days)", DVA="no symptom gate"),
    }


# ---------------------------------------------------------------- 14 low Mg in mg/dL
@fixture
def f14():
    ch = Chart("calf-lowmg-14", "calf-cds-pract-02")
    ch.patient("Philippa6", "Zeller-Amankwah19", "female", "1959-12-01")
    prior, ctx = base(ch, reasons=[CRAMP_ICD], bmi=27.5, height=158, hr=75, sbp=134)
    ch.condition(HTN, onset=at(3200), recorded=at(3200))
    ch.condition(CRAMP_ICD, slug="cramps", onset=at(7), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_statement(CHLORTHALIDONE_25, slug="chlorthalidone", start=at(700), asserted=at(0, 10, 40), source="clinician", reason=HTN)
    ch.med_statement(LOSARTAN_50, start=at(900), asserted=at(0, 10, 40), source="clinician", reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.9, "mmol/L", "mmol/L", at(10, 8), slug="k", low=3.5, high=5.1, interp="N")
    ch.lab("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", 1.5, "mg/dL", "mg/dL", at(10, 8), slug="mg", low=1.7, high=2.2, interp="L")
    return ch, {
        "description": "66-year-old woman on chlorthalidone (MedicationStatement) with cramps; K 3.9 normal but magnesium 1.5 mg/dL (= 0.62 mmol/L) low: diuretic-electrolyte card.",
        "expectTopics": [DED],
        "expectIndicators": {DED: "warning"},
        "silentTopics": silent(ENM="K and Mg both measured 10 days ago", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 15 newest K across codes is low
@fixture
def f15():
    ch = Chart("calf-knewest-15")
    ch.patient("Ambrose77", "Delacroix-Nnamdi3", "male", "1970-03-17")
    prior, ctx = base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=28.8, height=175, hr=78)
    ch.condition(HTN, onset=at(2600), recorded=at(2600))
    ch.condition(LBP_ICD, onset=at(500), recorded=at(500))
    ch.med_request(FUROSEMIDE_40_SCDC, slug="furosemide-scdc", authored=at(150), text="furosemide 40 mg tablet", reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.1, "mmol/L", "mmol/L", at(45, 8), slug="k-serum", low=3.5, high=5.1, interp="N")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.80, "mmol/L", "mmol/L", at(45, 8), slug="mg", low=0.70, high=1.00, interp="N")
    ch.lab("6298-4", "Potassium [Moles/volume] in Blood", 3.2, "mmol/L", "mmol/L", at(2, 9, 15), slug="k-blood", low=3.5, high=5.0, interp="L",
           note="Point-of-care whole-blood potassium.")
    return ch, {
        "description": "56-year-old man on furosemide (SCDC code 315971 only), no symptoms; serum K 4.1 (2823-3, 45 days ago) and newer whole-blood K 3.2 (6298-4, 2 days ago): the newest across codes is low, so the diuretic-electrolyte card fires.",
        "expectTopics": [DED],
        "expectIndicators": {DED: "warning"},
        "silentTopics": silent(ENM="no symptom gate (and K/Mg measured)", DVA="no symptom gate"),
    }


# ---------------------------------------------------------------- 16 newest K normal, entered-in-error ignored
@fixture
def f16():
    ch = Chart("calf-knormal-16", "calf-cds-pract-02")
    ch.patient("Cordelia19", "Ramaswamy-Quist8", "female", "1967-08-08")
    prior, ctx = base(ch, reasons=[CALF_SPASM_ICD], bmi=26.0, height=167, hr=77)
    ch.condition(HTN, onset=at(2100), recorded=at(2100))
    ch.condition(ANXIETY_ICD, onset=at(3000), recorded=at(3000))
    ch.condition(CALF_SPASM_ICD, slug="calf-spasm", onset=at(5), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(HCTZ_25, slug="hctz", authored=at(800), reason=HTN)
    ch.lab("6298-4", "Potassium [Moles/volume] in Blood", 3.1, "mmol/L", "mmol/L", at(40, 9), slug="k-blood-old", low=3.5, high=5.0, interp="L")
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.9, "mmol/L", "mmol/L", at(3, 8), slug="k-serum", low=3.5, high=5.1, interp="N")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.82, "mmol/L", "mmol/L", at(3, 8), slug="mg", low=0.70, high=1.00, interp="N")
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 2.9, "mmol/L", "mmol/L", at(1, 8), slug="k-error", low=3.5, high=5.1, interp="L",
           status="entered-in-error", note="Result entered against wrong patient; retracted.")
    return ch, {
        "description": "59-year-old woman on hydrochlorothiazide with calf spasm; whole-blood K 3.1 40 days ago, newer serum K 3.9 three days ago, and a K 2.9 yesterday that is entered-in-error: latest valid K is normal, no cards.",
        "expectTopics": [],
        "silentTopics": silent(DED="newest valid K 3.9 (2823-3) supersedes older 3.1 (6298-4); 2.9 is entered-in-error; Mg 0.82",
                               ENM="K and Mg measured 3 days ago", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 17 K 3.6 + invalid resource
@fixture
def f17():
    ch = Chart("calf-k36-17")
    ch.patient("Barnaby3", "Ellingsen-Okafor26", "male", "1961-05-25")
    prior, ctx = base(ch, reasons=[CRAMP_ICD], bmi=28.0, height=172, hr=70)
    ch.condition(HTN, onset=at(2900), recorded=at(2900))
    ch.condition(CRAMP_ICD, slug="cramps", onset=at(9), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(FUROSEMIDE_20, slug="furosemide", authored=at(365), reason=HTN)
    ch.med_request(METOPROLOL_ER, authored=at(1000), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.6, "mEq/L", "meq/L", at(6, 8), slug="k", low=3.5, high=5.1, interp="N")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.78, "mmol/L", "mmol/L", at(6, 8), slug="mg", low=0.70, high=1.00, interp="N")
    bad = ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 0, "mmol/L", "mmol/L", at(1, 8), slug="k-invalid", low=3.5, high=5.1)
    # deliberately invalid: a wrong-typed decimal (string that is not a number)
    ch.entries[-1]["resource"]["valueQuantity"]["value"] = "low"
    return ch, {
        "description": "64-year-old man on furosemide with cramps; K 3.6 mEq/L and Mg 0.78 six days ago: no card. Also carries one deliberately invalid potassium Observation (valueQuantity.value is the string 'low') that must be skipped without failing the request.",
        "expectTopics": [],
        "invalidResources": 1,
        "invalidResourceIds": [f"Observation/{bad}"],
        "silentTopics": silent(DED="K 3.6 is not < 3.5; Mg 0.78 is not < 0.70; the invalid K Observation is skipped",
                               ENM="K and Mg measured 6 days ago", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 18 spironolactone only
@fixture
def f18():
    ch = Chart("calf-spiro-18", "calf-cds-pract-02")
    ch.patient("Marguerite64", "Oyelowo-Frisk5", "female", "1974-02-27")
    prior, ctx = base(ch, reasons=[CRAMP_ICD], bmi=24.5, height=170, hr=74, sbp=142, dbp=88)
    ch.condition(HTN, onset=at(1500), recorded=at(1500), note="Resistant hypertension.")
    ch.condition(CRAMP_ICD, slug="cramps", onset=at(10), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(SPIRONOLACTONE_25, slug="spironolactone", authored=at(200), reason=HTN)
    ch.med_request(AMLODIPINE_5, authored=at(1400), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.2, "mmol/L", "mmol/L", at(8, 8), slug="k", low=3.5, high=5.1, interp="L")
    return ch, {
        "description": "52-year-old woman on spironolactone (potassium-sparing) only, leg cramps, K 3.2 and no Mg: no diuretic card because no potassium-wasting diuretic is current; the low potassium with cramps gives electrolyte-deficiency.",
        "expectTopics": ["electrolyte-deficiency"],
        "silentTopics": silent(DED="spironolactone is potassium-sparing, not K-wasting", ENM="no current K-wasting diuretic", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 19 old K, no symptoms
@fixture
def f19():
    ch = Chart("calf-kold-19")
    ch.patient("Fitzgerald36", "Nakamura-Oduya14", "male", "1963-10-19")
    prior, ctx = base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=27.7, height=180, hr=72, prior_days=120)
    ch.condition(HTN, onset=at(3300), recorded=at(3300))
    ch.condition(GERD_ICD, onset=at(2000), recorded=at(2000))
    ch.med_request(HCTZ_LISINOPRIL, slug="lisinopril-hctz", authored=at(600), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.0, "mmol/L", "mmol/L", at(120, 14, 20), slug="k", low=3.5, high=5.1, interp="L")
    return ch, {
        "description": "63-year-old man on lisinopril/hydrochlorothiazide; K 3.0 was 120 days ago, no symptoms: no cards (K outside 90 days; no symptom gate for the monitoring card).",
        "expectTopics": [],
        "silentTopics": silent(DED="only K result is 120 days old (window 90)", ENM="no symptom gate"),
    }


# ---------------------------------------------------------------- 20 losartan potassium, no K
@fixture
def f20():
    ch = Chart("calf-nok-20", "calf-cds-pract-02")
    ch.patient("Octavia27", "Brennan-Adjei4", "female", "1969-04-12")
    prior, ctx = base(ch, reasons=[CRAMP_NODOT], bmi=26.9, height=164, hr=71, prior_days=400)
    ch.condition(HTN, onset=at(1900), recorded=at(1900))
    ch.condition(CRAMP_NODOT, slug="cramps", onset=at(6), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(HCTZ_LOSARTAN, slug="losartan-hctz", authored=at(500), reason=HTN)
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.80, "mmol/L", "mmol/L", at(30, 8), slug="mg", low=0.70, high=1.00, interp="N")
    return ch, {
        "description": "57-year-old woman on hydrochlorothiazide/losartan potassium with leg cramps (ICD R252, no dot); Mg measured but no potassium result at all ('losartan potassium' is a drug, not a K result): monitoring card.",
        "expectTopics": [ENM],
        "silentTopics": silent(DED="no K result ('losartan potassium' is not one) and Mg 0.80 normal", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 21 K but no Mg, symptom Observation
@fixture
def f21():
    ch = Chart("calf-nomg-21")
    ch.patient("Lucius5", "Grimaldi-Essien33", "male", "1968-12-24")
    prior, ctx = base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=27.1, height=176, hr=73)
    ch.condition(HTN, onset=at(2400), recorded=at(2400))
    ch.condition(OA_KNEE, onset=at(1000), recorded=at(1000))
    ch.finding_obs(CALF_PAIN_ANY, at(0, 10, 45), slug="calf-pain-exam", enc=ctx, body_site=LEFT_LEG,
                   note="Reports aching left calf for 2 weeks; no swelling, calf soft.")
    ch.med_request(TORSEMIDE_20, slug="torsemide", authored=at(420), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.0, "mmol/L", "mmol/L", at(10, 8), slug="k", low=3.5, high=5.1, interp="N")
    return ch, {
        "description": "57-year-old man on torsemide; calf pain recorded only as an exam Observation (SNOMED 300954003) today; K 4.0 but magnesium never measured: monitoring card.",
        "expectTopics": [ENM],
        "silentTopics": silent(DED="K 4.0 normal; no Mg result", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 22 cancelled K and "see comment"
@fixture
def f22():
    ch = Chart("calf-kcancel-22", "calf-cds-pract-02")
    ch.patient("Evangeline41", "Toivonen-Mensah2", "female", "1966-07-07")
    prior, ctx = base(ch, reasons=[WEAKNESS_ICD], bmi=25.9, height=161, hr=76, prior_days=365)
    ch.condition(HTN, onset=at(2700), recorded=at(2700))
    ch.condition(WEAKNESS_ICD, slug="weakness", onset=at(6), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(INDAPAMIDE_25, slug="indapamide", authored=at(330), reason=HTN)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 2.8, "mmol/L", "mmol/L", at(3, 8), slug="k-cancelled", low=3.5, high=5.1,
           status="cancelled", note="Specimen haemolysed; test cancelled, recollection requested.")
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", None, None, None, at(3, 8, 5), slug="k-see-comment", value_string="see comment",
           note="Grossly haemolysed specimen; potassium not reportable.")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.79, "mmol/L", "mmol/L", at(2, 8), slug="mg", low=0.70, high=1.00, interp="N")
    return ch, {
        "description": "60-year-old woman on indapamide with muscle weakness; the only potassium results are a cancelled order (value 2.8) and a final result with valueString 'see comment': no usable K, so the monitoring card fires and the low-K card does not.",
        "expectTopics": [ENM],
        "silentTopics": silent(DED="cancelled K and valueString K are ignored; Mg 0.79 normal", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 23 acetazolamide low K
@fixture
def f23():
    ch = Chart("calf-acetazolamide-23")
    ch.patient("Seraphina2", "Kvist-Uzoma17", "female", "1985-01-20", marital="S")
    prior, ctx = base(ch, reasons=[IIH_TEXT], kind=FOLLOWUP, bmi=29.4, height=169, hr=78)
    ch.condition(IIH_TEXT, onset=at(400), recorded=at(400))
    ch.med_request(ACETAZOLAMIDE_250, slug="acetazolamide", authored=at(380), dose="Take 1 tablet by mouth twice daily", per_day=2, reason=IIH_TEXT)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.3, "mmol/L", "mmol/L", at(14, 8), slug="k", low=3.5, high=5.1, interp="L")
    ch.lab("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.81, "mmol/L", "mmol/L", at(14, 8), slug="mg", low=0.70, high=1.00, interp="N")
    return ch, {
        "description": "41-year-old woman on acetazolamide (carbonic anhydrase inhibitor) for idiopathic intracranial hypertension, K 3.3, no symptoms: diuretic-electrolyte card.",
        "expectTopics": [DED],
        "expectIndicators": {DED: "warning"},
        "silentTopics": silent(ENM="no symptom gate", DVA="no symptom gate (BMI 29.4 is below 30 anyway)"),
    }


# ---------------------------------------------------------------- 24 vitamin D nmol/L + myalgia
@fixture
def f24():
    ch = Chart("calf-vitd-24", "calf-cds-pract-02")
    ch.patient("Ottilie39", "Benedetti-Asante8", "female", "1981-09-14")
    prior, ctx = base(ch, reasons=[MYALGIA_ICD], bmi=24.1, height=171, hr=70)
    ch.condition(MYALGIA_ICD, slug="myalgia", onset=at(14), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.condition(ASTHMA_ICD, onset=at(8000), recorded=at(8000))
    ch.med_request(ALBUTEROL, authored=at(200), dose="Inhale 2 puffs every 4 hours as needed", prn=True)
    ch.lab("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma", 30, "nmol/L", "nmol/L", at(100, 8), slug="vitd",
           low=75, high=250, interp="L")
    return ch, {
        "description": "45-year-old woman with myalgia (ICD M79.10) for 2 weeks and 25-OH vitamin D 30 nmol/L (= 12 ng/mL) 100 days ago, no statin: vitamin D card.",
        "expectTopics": [VDD],
        "silentTopics": silent(SMS="no statin", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 25 vitamin D low + statin, no symptoms
@fixture
def f25():
    ch = Chart("calf-vitdstatin-25")
    ch.patient("Gideon58", "Lachance-Owusu6", "male", "1965-03-03")
    prior, ctx = base(ch, reasons=[HLD], kind=FOLLOWUP, bmi=26.8, height=178, hr=67)
    ch.condition(HLD, onset=at(1300), recorded=at(1300))
    ch.condition(HTN, onset=at(1700), recorded=at(1700))
    ch.med_request(ATORVA_20_LIPITOR, slug="lipitor", authored=at(420), reason=HLD)
    ch.med_request(LISINOPRIL_10, authored=at(1600), reason=HTN)
    ch.lab("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma", 15, "ng/mL", "ng/mL", at(40, 8), slug="vitd",
           low=30, high=100, interp="L")
    return ch, {
        "description": "61-year-old man on Lipitor (SBD 617318), no muscle symptoms, no CK, 25-OH D 15 ng/mL: vitamin D card only (statin satisfies its gate).",
        "expectTopics": [VDD],
        "silentTopics": silent(SMS="no symptom gate and no CK result"),
    }


# ---------------------------------------------------------------- 26 vitamin D 25 ng/mL, statin + calf pain
@fixture
def f26():
    ch = Chart("calf-vitd25-26", "calf-cds-pract-02")
    ch.patient("Clementine80", "Oakes-Nwachukwu5", "female", "1962-06-06")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=25.3, height=162, hr=72)
    ch.condition(HLD, onset=at(1000), recorded=at(1000))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(11), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(LOVA_20, slug="lovastatin", authored=at(500), dose="Take 1 tablet by mouth with evening meal", reason=HLD)
    ch.lab("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma", 25, "ng/mL", "ng/mL", at(50, 8), slug="vitd",
           low=30, high=100, interp="L")
    return ch, {
        "description": "64-year-old woman on lovastatin with left calf pain; 25-OH D 25 ng/mL (insufficient, not deficient): statin card only.",
        "expectTopics": [SMS],
        "silentTopics": silent(VDD="25-OH D 25 ng/mL is not < 20", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 27 vitamin D low, no trigger
@fixture
def f27():
    ch = Chart("calf-vitdquiet-27")
    ch.patient("Percival14", "Aydin-Rasmussen9", "male", "1978-10-10")
    prior, ctx = base(ch, reasons=None, kind=CHECKUP, bmi=23.5, height=182, hr=62)
    ch.condition(ASTHMA_ICD, onset=at(6000), recorded=at(6000))
    ch.med_request(FLUTICASONE, authored=at(300), dose="Inhale 2 puffs by mouth twice daily", per_day=2)
    ch.lab("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma", 12, "ng/mL", "ng/mL", at(30, 8), slug="vitd",
           low=30, high=100, interp="L")
    return ch, {
        "description": "48-year-old man at a check-up, 25-OH D 12 ng/mL, no symptoms and no statin: no card.",
        "expectTopics": [],
        "silentTopics": silent(VDD="deficient but no symptom gate and no current statin"),
    }


# ---------------------------------------------------------------- 28 cancer + undated calf pain
@fixture
def f28():
    ch = Chart("calf-cancer-28", "calf-cds-pract-02")
    ch.patient("Beatrix66", "Holloway-Adebayo2", "female", "1963-05-15")
    prior, ctx = base(ch, reasons=[BREAST_CA_ICD], kind=FOLLOWUP, bmi=24.7, height=165, hr=82)
    ch.condition(BREAST_CA_ICD, slug="breast-cancer", onset=at(190), recorded=at(185))
    ch.condition(CALF_PAIN_L_ICD, slug="calf-pain", note="Left calf ache mentioned at oncology follow-up.")
    ch.med_request(ACETAMINOPHEN, authored=at(150), dose="Take 2 tablets by mouth every 6 hours as needed", prn=True)
    return ch, {
        "description": "63-year-old woman with active breast cancer (C50.911) and an active left calf pain Condition with no dates (counts as current): DVT assessment card.",
        "expectTopics": [DVA],
        "expectIndicators": {DVA: "warning"},
        "silentTopics": silent(DRF="no swelling/warmth/PE symptom/D-dimer", SMS="no statin"),
    }


# ---------------------------------------------------------------- 29 cancer, no calf pain
@fixture
def f29():
    ch = Chart("calf-cancernosx-29")
    ch.patient("Reginald45", "Szabo-Onwuka3", "male", "1960-02-02")
    prior, ctx = base(ch, reasons=[LUNG_CA], kind=FOLLOWUP, bmi=22.1, height=175, hr=84, smoking=("8517006", "Ex-smoker (finding)"))
    ch.condition(LUNG_CA, slug="lung-cancer", onset=at(120), recorded=at(118))
    ch.condition(HTN, onset=at(2500), recorded=at(2500))
    ch.med_request(AMLODIPINE_5, authored=at(2400), reason=HTN)
    return ch, {
        "description": "66-year-old man with active non-small cell lung cancer but no leg or muscle symptoms: no DVT card.",
        "expectTopics": [],
        "silentTopics": silent(DVA="active cancer but no symptom gate", DRF="no symptom gate"),
    }


# ---------------------------------------------------------------- 30 history of cancer + calf pain
@fixture
def f30():
    ch = Chart("calf-z85-30", "calf-cds-pract-02")
    ch.patient("Millicent33", "Fairbanks-Oduro7", "female", "1969-11-11")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=25.0, height=166, hr=70)
    ch.condition(HX_BREAST_CA_ICD, onset=at(2900), recorded=at(2900))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(4), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.condition(GERD_ICD, onset=at(1600), recorded=at(1600))
    return ch, {
        "description": "57-year-old woman with right calf pain and a personal history of breast cancer (Z85.3, treated 8 years ago): history is not active cancer, no DVT card.",
        "expectTopics": [],
        "silentTopics": silent(DVA="Z85.3 personal history of cancer is not active cancer; no other risk factor", SMS="no statin"),
    }


# ---------------------------------------------------------------- 31 postpartum + dyspnoea
@fixture
def f31():
    ch = Chart("calf-postpartum-31")
    ch.patient("Juniper42", "Abernathy-Ikeda5", "female", "1995-04-30")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R, DYSPNEA], bmi=27.6, height=168, hr=96, sbp=122, dbp=78, prior_bmi=29.0)
    ch.condition(POSTPARTUM, slug="postpartum", onset=at(19), recorded=at(17))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(2), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.condition(DYSPNEA, slug="dyspnea", onset=at(1), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(IBUPROFEN, authored=at(17), dose="Take 2 tablets by mouth every 6 hours as needed", prn=True, refills=0, days_supply=10)
    return ch, {
        "description": "31-year-old woman 19 days postpartum with right calf pain and new shortness of breath (PE symptom) since yesterday: DVT assessment and red-flag cards.",
        "expectTopics": [DVA, DRF],
        "expectIndicators": {DRF: "critical"},
        "silentTopics": silent(SMS="no statin"),
    }


# ---------------------------------------------------------------- 32 prior DVT + estrogen + unilateral swelling/warmth
@fixture
def f32():
    ch = Chart("calf-redflag-32", "calf-cds-pract-02")
    ch.patient("Rowena16", "Castellano-Obi4", "female", "1978-08-21")
    prior, ctx = base(ch, reasons=[SWELLING_LOWER_LEG, CALF_PAIN_L], bmi=26.5, height=170, hr=86)
    ch.condition(DVT_L_ICD, slug="dvt-2023", onset=at(1200), abatement=at(1020), recorded=at(1200), clinical="resolved")
    ch.condition(HX_VTE_ICD, onset=at(1020), recorded=at(1020))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(3), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis", body_site=LEFT_LEG)
    ch.condition(SWELLING_LOWER_LEG, slug="swelling", onset=at(2), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis", body_site=LEFT_LEG,
                 note="Left calf 3.5 cm larger than right; right leg normal.")
    ch.finding_obs(WARM_SKIN, at(0, 10, 45), slug="warmth", enc=ctx, body_site=LEFT_LEG, note="Left calf warm and erythematous to touch.")
    ch.med_request(CONJ_ESTROGENS, slug="estrogens", authored=at(500), reason=cc((ICD, "N95.1", "Menopausal and female climacteric states")))
    return ch, {
        "description": "48-year-old woman on conjugated estrogens with a resolved left-leg DVT (2023) and Z86.718, now left calf pain with unilateral left lower-leg swelling and warmth today: DVT assessment and red-flag cards.",
        "expectTopics": [DVA, DRF],
        "expectIndicators": {DRF: "critical"},
        "silentTopics": silent(SMS="no statin"),
    }


# ---------------------------------------------------------------- 33 positive D-dimer, no risk factors
@fixture
def f33():
    ch = Chart("calf-ddimer-33")
    ch.patient("Matthias29", "Korhonen-Achterberg1", "male", "1982-06-18")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=25.8, height=181, hr=84)
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(3), recorded=at(1, 16), category="encounter-diagnosis")
    ch.condition(RHINITIS_ICD, onset=at(5000), recorded=at(5000))
    ch.lab("48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", 1450, "ng/mL FEU", "ng/mL", at(1, 17), slug="ddimer",
           high=500, interp="H", ref_text="< 500 ng/mL FEU")
    return ch, {
        "description": "44-year-old man with right calf pain, no DVT risk factor, D-dimer 1450 ng/mL FEU yesterday (cut-off 500): red-flag card only.",
        "expectTopics": [DRF],
        "expectIndicators": {DRF: "critical"},
        "silentTopics": silent(DVA=NO_RISK, SMS="no statin"),
    }


# ---------------------------------------------------------------- 34 swelling 20 days ago
@fixture
def f34():
    ch = Chart("calf-oldswelling-34", "calf-cds-pract-02")
    ch.patient("Eustace47", "Moreau-Appiah2", "male", "1974-09-09")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=26.1, height=177, hr=72)
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(22), recorded=at(20, 15), category="encounter-diagnosis")
    ch.condition(SWELLING_LOWER_LEG, slug="swelling", onset=at(20), recorded=at(20, 15), body_site=RIGHT_LEG,
                 category="encounter-diagnosis", note="Mild right calf swelling after a long drive.")
    ch.condition(LBP_ICD, onset=at(900), recorded=at(900))
    return ch, {
        "description": "52-year-old man with right calf pain (22 days) and right lower-leg swelling recorded 20 days ago; no risk factors: no red-flag card (swelling outside 7 days), but the recorded swelling is a chart Wells point, so dvt-assessment as a warning (issue 7).",
        "expectTopics": [DVA],
        "expectIndicators": {DVA: "warning"},
        "silentTopics": silent(DRF="swelling was recorded 20 days ago (window 7 days)"),
    }


# ---------------------------------------------------------------- 35 elderly, D-dimer below age-adjusted cut-off
@fixture
def f35():
    ch = Chart("calf-elderly-35")
    ch.patient("Adelheid91", "Vuković-Sterling3", "female", "1948-05-02", marital="W")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=24.2, height=158, hr=78, sbp=136, dbp=76)
    ch.condition(HTN, onset=at(6000), recorded=at(6000))
    ch.condition(OA_KNEE, onset=at(3000), recorded=at(3000))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(5), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(AMLODIPINE_5, authored=at(2000), reason=HTN)
    ch.lab("48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", 700, "ng/mL FEU", "ng/mL", at(1, 15), slug="ddimer",
           high=500, interp="H", ref_text="< 500 ng/mL FEU; age-adjusted cut-off age x 10 for patients over 50")
    return ch, {
        "description": "78-year-old woman with left calf pain; D-dimer 700 ng/mL FEU is above 500 but below her age-adjusted cut-off 780: DVT assessment (age >= 70) without the red-flag card.",
        "expectTopics": [DVA],
        "silentTopics": silent(DRF="D-dimer 700 < age-adjusted cut-off 780 ng/mL FEU; no swelling/warmth/PE symptom", SMS="no statin"),
    }


# ---------------------------------------------------------------- 36 recent knee replacement
@fixture
def f36():
    ch = Chart("calf-surgery-36", "calf-cds-pract-02")
    ch.patient("Horatio62", "Lindgren-Ogunleye8", "male", "1960-07-04")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=28.6, height=176, hr=80)
    ch.condition(OA_KNEE, onset=at(2000), recorded=at(2000))
    ch.procedure(KNEE_TKA, at(12, 8), slug="tka", end=at(12, 10), body_site=cc((SCT, "6757004", "Structure of right knee region (body structure)"), text="Right knee"),
                 reason=OA_KNEE)
    ch.condition(KNEE_PROSTHESIS_ICD, onset=at(12), recorded=at(10))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(2), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(ACETAMINOPHEN, authored=at(10), dose="Take 2 tablets by mouth every 6 hours as needed", prn=True, refills=0, days_supply=14)
    return ch, {
        "description": "66-year-old man 12 days after right total knee arthroplasty with right calf pain: DVT assessment card.",
        "expectTopics": [DVA],
        "silentTopics": silent(DRF="no swelling/warmth/PE symptom/D-dimer", SMS="no statin"),
    }


# ---------------------------------------------------------------- 37 thrombophilia + wheelchair, dotless ICD
@fixture
def f37():
    ch = Chart("calf-fvl-37")
    ch.patient("Anneliese7", "Duarte-Okoro52", "female", "1977-03-12")
    prior, ctx = base(ch, reasons=None, kind=CHECKUP, bmi=23.2, height=164, hr=74)
    ch.condition(FVL_ICD, onset=at(4000), recorded=at(4000))
    ch.condition(WHEELCHAIR_ICD, onset=at(2000), recorded=at(2000))
    ch.condition(CALF_PAIN_R_NODOT, slug="calf-pain", onset=at(7), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(NAPROXEN, authored=at(100), dose="Take 1 tablet by mouth twice daily as needed", prn=True)
    return ch, {
        "description": "49-year-old woman with factor V Leiden (D68.51) and wheelchair dependence; right calf pain coded as ICD-10-CM 'M79661' (no dot) only: DVT assessment card.",
        "expectTopics": [DVA],
        "silentTopics": silent(DRF="no swelling/warmth/PE symptom/D-dimer"),
    }


# ---------------------------------------------------------------- 38 heart failure + furosemide, labs fine
@fixture
def f38():
    ch = Chart("calf-hf-38", "calf-cds-pract-02")
    ch.patient("Ezekiel48", "Bjornstad-Afolabi6", "male", "1962-09-27")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=27.4, height=178, hr=82)
    ch.condition(HF, onset=at(900), recorded=at(900))
    ch.condition(HTN, onset=at(3000), recorded=at(3000))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(6), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(FUROSEMIDE_40, slug="furosemide", authored=at(880), reason=HF)
    ch.med_request(METOPROLOL_ER, authored=at(880), reason=HF)
    ch.med_request(LISINOPRIL_10, authored=at(880), reason=HF)
    ch.lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.8, "mmol/L", "mmol/L", at(15, 8), slug="k", low=3.5, high=5.1, interp="N")
    ch.lab("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", 1.9, "mg/dL", "mg/dL", at(15, 8), slug="mg", low=1.7, high=2.2, interp="N")
    return ch, {
        "description": "64-year-old man with chronic systolic heart failure on furosemide; left calf pain; K 3.8 and Mg 1.9 mg/dL normal: DVT assessment (heart failure) only.",
        "expectTopics": [DVA],
        "silentTopics": silent(DED="K 3.8 and Mg 1.9 mg/dL (0.78 mmol/L) normal", ENM="K and Mg measured 15 days ago", DRF="no swelling/warmth/PE symptom/D-dimer"),
    }


# ---------------------------------------------------------------- 39 claudication condition
@fixture
def f39():
    ch = Chart("calf-claud-39")
    ch.patient("Silas15", "Whitcombe-Eze9", "male", "1962-12-15")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=25.9, height=174, hr=76, smoking=("449868002", "Smokes tobacco daily (finding)"))
    ch.condition(CLAUD_R_ICD, slug="claudication", onset=at(300), recorded=at(300))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(10), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis",
                 note="Right calf cramping after 1 block of walking, relieved by 2 minutes of rest.")
    ch.med_request(ASPIRIN_81, authored=at(290))
    ch.med_request(CLOPIDOGREL, authored=at(290))
    ch.allergy(cc((SCT, "372912004", "Substance with 3-hydroxy-3-methylglutaryl-coenzyme A reductase inhibitor mechanism of action (substance)"), text="Statins"),
               at(600), reaction={"text": "Muscle aches on simvastatin and atorvastatin"})
    return ch, {
        "description": "63-year-old smoker with documented intermittent claudication (I70.211) and exertional right calf pain; statin-intolerant (allergy record, no statin): PAD card.",
        "expectTopics": [PAD],
        "silentTopics": silent(SMS="statin only appears as an AllergyIntolerance, not a current medication", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 40 ABI 0.78
ABI_CODE_L = cc(("https://example.org/calf-cds/CodeSystem/vascular-lab", "ABI-L", "Ankle-brachial index, left"), text="Ankle-brachial index (ABI), left leg")
ABI_CODE_R = cc(("https://example.org/calf-cds/CodeSystem/vascular-lab", "ABI-R", "Ankle-brachial index, right"), text="Ankle-brachial index (ABI), right leg")


@fixture
def f40():
    ch = Chart("calf-abi-40", "calf-cds-pract-02")
    ch.patient("Gwendolyn70", "Mercer-Oyedele1", "female", "1959-01-08")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=26.3, height=163, hr=74, smoking=("8517006", "Ex-smoker (finding)"))
    ch.condition(HTN, onset=at(2500), recorded=at(2500))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(14), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.lab("", "", 0.78, "ratio", "{ratio}", at(30, 11), slug="abi-left", code=ABI_CODE_L, category="procedure", low=1.0, high=1.4, interp="L")
    ch.lab("", "", 1.02, "ratio", "{ratio}", at(30, 11), slug="abi-right", code=ABI_CODE_R, category="procedure", low=1.0, high=1.4, interp="N")
    ch.med_request(LISINOPRIL_10, authored=at(2400), reason=HTN)
    return ch, {
        "description": "67-year-old woman with left calf pain and a left ankle-brachial index of 0.78 (30 days ago), no PAD diagnosis on the problem list: PAD card.",
        "expectTopics": [PAD],
        "silentTopics": silent(DVA=NO_RISK, SMS="no statin"),
    }


# ---------------------------------------------------------------- 41 ABI 0.95
@fixture
def f41():
    ch = Chart("calf-abiborder-41")
    ch.patient("Cornelius24", "Pruitt-Adegoke2", "male", "1965-08-30")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=27.3, height=179, hr=71)
    ch.condition(HTN, onset=at(2200), recorded=at(2200))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(9), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.lab("", "", 0.95, "ratio", "{ratio}", at(20, 11), slug="abi-right", code=ABI_CODE_R, category="procedure", low=1.0, high=1.4, interp="L",
           note="Borderline.")
    ch.lab("", "", 1.05, "ratio", "{ratio}", at(20, 11), slug="abi-left", code=ABI_CODE_L, category="procedure", low=1.0, high=1.4, interp="N")
    ch.med_request(AMLODIPINE_5, authored=at(2000), reason=HTN)
    return ch, {
        "description": "61-year-old man with right calf pain; ankle-brachial index 0.95 (borderline, not <= 0.90): no card.",
        "expectTopics": [],
        "silentTopics": silent(PAD="ABI 0.95 is borderline, above 0.90; no PAD condition", DVA=NO_RISK),
    }


# ---------------------------------------------------------------- 42 diabetic neuropathy + symptom Observation
@fixture
def f42():
    ch = Chart("calf-dpn-42", "calf-cds-pract-02")
    ch.patient("Augustin81", "Nakashima-Obi3", "male", "1968-02-11")
    prior, ctx = base(ch, reasons=[T2DM_NEURO], kind=FOLLOWUP, bmi=29.1, height=173, hr=78)
    ch.condition(T2DM_NEURO, slug="dpn", onset=at(1100), recorded=at(1100))
    ch.condition(HTN, onset=at(2600), recorded=at(2600))
    ch.finding_obs(LOWER_LIMB_PAIN, at(3, 15), slug="leg-pain", note="Burning pain both lower legs, worse at night.")
    ch.med_request(METFORMIN_ER, authored=at(2000), dose="Take 1 tablet by mouth daily with evening meal", reason=T2DM_NEURO)
    ch.med_request(LISINOPRIL_10, authored=at(2400), reason=HTN)
    ch.lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 8.1, "%", "%", at(45, 8), low=4.0, high=5.6, interp="H")
    return ch, {
        "description": "58-year-old man with type 2 diabetic polyneuropathy; lower-limb pain recorded as an exam Observation (SNOMED 10601006) 3 days ago: diabetic neuropathy card.",
        "expectTopics": [DNP],
        "silentTopics": silent(DVA=NO_RISK + " (BMI 29.1)", PAD="no PAD condition or ABI"),
    }


# ---------------------------------------------------------------- 43 neuropathy, no symptoms
@fixture
def f43():
    ch = Chart("calf-dpnquiet-43")
    ch.patient("Philomena3", "Garrido-Asare5", "female", "1966-05-19")
    prior, ctx = base(ch, reasons=[T2DM_NEURO_ICD], kind=FOLLOWUP, bmi=28.4, height=161, hr=75)
    ch.condition(T2DM_NEURO_ICD, slug="dpn", onset=at(800), recorded=at(800))
    ch.med_request(METFORMIN_ER, authored=at(1500), reason=T2DM_NEURO_ICD)
    ch.lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 7.0, "%", "%", at(30, 8), low=4.0, high=5.6, interp="H")
    return ch, {
        "description": "60-year-old woman with type 2 diabetic polyneuropathy (E11.42) at a diabetes follow-up, no leg or muscle symptoms: no card.",
        "expectTopics": [],
        "silentTopics": silent(DNP="neuropathy documented but no symptom gate"),
    }


# ---------------------------------------------------------------- 44 diabetes without neuropathy + calf pain
@fixture
def f44():
    ch = Chart("calf-dmnoneuro-44", "calf-cds-pract-02")
    ch.patient("Leander55", "Qureshi-Holm8", "male", "1969-07-23")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=28.9, height=175, hr=77)
    ch.condition(T2DM, onset=at(1200), recorded=at(1200))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(5), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(METFORMIN_ER, authored=at(1190), reason=T2DM)
    return ch, {
        "description": "57-year-old man with type 2 diabetes without complications (E11.9) and left calf pain: no card.",
        "expectTopics": [],
        "silentTopics": silent(DNP="diabetes without a neuropathy condition", DVA=NO_RISK, PAD="no PAD condition or ABI"),
    }


# ---------------------------------------------------------------- 45 fibromyalgia + refuted calf pain
@fixture
def f45():
    ch = Chart("calf-fibro-45")
    ch.patient("Isadora12", "Pembroke-Anyanwu4", "female", "1972-10-05")
    prior, ctx = base(ch, reasons=[FIBROMYALGIA], kind=FOLLOWUP, bmi=25.7, height=166, hr=72)
    ch.condition(FIBROMYALGIA, slug="fibromyalgia", onset=at(20), recorded=at(18))
    ch.condition(CALF_PAIN_L, slug="calf-pain-refuted", onset=at(6), recorded=at(5), verification="refuted",
                 note="Entered in error at triage: pain is in the left thigh, not the calf.")
    ch.condition(HLD, onset=at(900), recorded=at(900))
    ch.med_request(ROSU_10, slug="rosuvastatin", authored=at(880), reason=HLD)
    return ch, {
        "description": "54-year-old woman on rosuvastatin with newly diagnosed fibromyalgia (M79.7, not myalgia) and a refuted left calf pain Condition: no card.",
        "expectTopics": [],
        "silentTopics": silent(SMS="fibromyalgia is not in the symptom gate and the calf pain Condition is refuted", DVA=NO_RISK),
    }
