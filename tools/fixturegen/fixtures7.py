"""Issue 7 fixtures (46-63): statin label interactions, electrolyte deficiency,
compartment syndrome, fluoroquinolone tendon risk, sciatica, coded rhabdomyolysis.
Each rule has a fixture that fires and a near-miss that stays silent."""
from lib import Chart, at
from codes import *
from fixtures import base, fixture, silent, NO_RISK

SDI = "statin-drug-interaction"; EDF = "electrolyte-deficiency"; CSR = "compartment-syndrome-risk"
FQT = "fluoroquinolone-tendon-risk"; SCI = "sciatica-referred-pain"; RHB = "rhabdomyolysis-risk"
SMS = "statin-muscle-symptoms"; DVA = "dvt-assessment"

K = ("2823-3", "Potassium [Moles/volume] in Serum or Plasma")
MG = ("2601-3", "Magnesium [Moles/volume] in Serum or Plasma")


def k_lab(ch, value, days, interp):
    ch.lab(K[0], K[1], value, "mmol/L", "mmol/L", at(days, 8), slug="k", low=3.5, high=5.1, interp=interp)


# ---------------------------------------------------------------- 46 simvastatin + clarithromycin
@fixture
def f46():
    ch = Chart("calf-simva-clari-46")
    ch.patient("Desmond71", "Achterberg-Lowe5", "male", "1961-06-14")
    base(ch, reasons=[SINUSITIS], kind=FOLLOWUP, bmi=27.0, height=178, hr=76)
    ch.condition(HLD, onset=at(2000), recorded=at(2000))
    ch.condition(SINUSITIS, onset=at(20), recorded=at(5))
    ch.med_request(SIMVA_40, slug="simvastatin", authored=at(700), reason=HLD)
    ch.med_request(CLARITHRO_500, slug="clarithromycin", authored=at(5), dose="Take 1 tablet by mouth twice daily for 14 days",
                   per_day=2, refills=0, days_supply=14, reason=SINUSITIS)
    return ch, {
        "description": "65-year-old man on simvastatin 40 mg, clarithromycin started 5 days ago for sinusitis, no muscle symptoms: the simvastatin label contraindicates strong CYP3A4 inhibitors (statin-drug-interaction, without symptoms).",
        "expectTopics": [SDI],
        "expectIndicators": {SDI: "warning"},
        "silentTopics": silent(SMS="no muscle symptom and no CK", DVA="no leg symptom"),
    }


# ---------------------------------------------------------------- 47 atorvastatin + clarithromycin
@fixture
def f47():
    ch = Chart("calf-atorva-clari-47")
    ch.patient("Philippa52", "Runcorn-Adebayo8", "female", "1963-02-02")
    base(ch, reasons=[SINUSITIS], kind=FOLLOWUP, bmi=25.2, height=166, hr=72)
    ch.condition(HLD, onset=at(1500), recorded=at(1500))
    ch.med_request(ATORVA_20, slug="atorvastatin", authored=at(500), reason=HLD)
    ch.med_request(CLARITHRO_500, slug="clarithromycin", authored=at(4), dose="Take 1 tablet by mouth twice daily for 7 days",
                   per_day=2, refills=0, days_supply=7, reason=SINUSITIS)
    return ch, {
        "description": "Near-miss: 63-year-old woman on atorvastatin 20 mg with clarithromycin: the atorvastatin label limits the dose but contraindicates neither, so no card.",
        "expectTopics": [],
        "silentTopics": [{"topic": SDI, "why": "atorvastatin label: dose limit with clarithromycin, not a contraindication"}],
    }


# ---------------------------------------------------------------- 48 simvastatin 80 mg new
@fixture
def f48():
    ch = Chart("calf-simva80-48")
    ch.patient("Augustin33", "Verhoeven-Kall2", "male", "1957-09-09")
    base(ch, reasons=[HLD], kind=FOLLOWUP, bmi=28.1, height=181, hr=70)
    ch.condition(HLD, onset=at(1200), recorded=at(1200))
    ch.med_request(SIMVA_80, slug="simvastatin", authored=at(120), reason=HLD)
    return ch, {
        "description": "69-year-old man started on simvastatin 80 mg four months ago, no symptoms: the label restricts 80 mg to patients already on it for 12 months (statin-drug-interaction).",
        "expectTopics": [SDI],
        "silentTopics": silent(SMS="no muscle symptom and no CK"),
    }


# ---------------------------------------------------------------- 49 simvastatin 80 mg for years
@fixture
def f49():
    ch = Chart("calf-simva80-old-49")
    ch.patient("Rosalind18", "Ekwueme-Bright4", "female", "1955-04-21")
    base(ch, reasons=[HLD], kind=FOLLOWUP, bmi=26.4, height=163, hr=68)
    ch.condition(HLD, onset=at(3000), recorded=at(3000))
    ch.med_request(SIMVA_80, slug="simvastatin", authored=at(1100), reason=HLD)
    return ch, {
        "description": "Near-miss: 71-year-old woman on simvastatin 80 mg for three years without muscle toxicity: allowed by the label, no card.",
        "expectTopics": [],
        "silentTopics": [{"topic": SDI, "why": "80 mg taken for more than 12 months"}],
    }


# ---------------------------------------------------------------- 50 lovastatin + gemfibrozil
@fixture
def f50():
    ch = Chart("calf-lova-gem-50")
    ch.patient("Ingram40", "Moffat-Oyelaran3", "male", "1966-12-01")
    base(ch, reasons=[HLD], kind=FOLLOWUP, bmi=29.0, height=176, hr=74)
    ch.condition(HLD, onset=at(1800), recorded=at(1800))
    ch.med_request(LOVA_40, slug="lovastatin", authored=at(900), reason=HLD)
    ch.med_request(GEMFIBROZIL_600, slug="gemfibrozil", authored=at(60), dose="Take 1 tablet by mouth twice daily before meals", per_day=2, reason=HLD)
    return ch, {
        "description": "59-year-old man on lovastatin 40 mg with gemfibrozil added 2 months ago: the lovastatin label says to avoid the combination (statin-drug-interaction).",
        "expectTopics": [SDI],
        "silentTopics": silent(SMS="no muscle symptom and no CK"),
    }


# ---------------------------------------------------------------- 51 simvastatin 40 + amlodipine, calf pain
@fixture
def f51():
    ch = Chart("calf-simva-amlo-51")
    ch.patient("Beatrix27", "Halvorsen-Ude6", "female", "1964-08-30")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=26.9, height=167, hr=75)
    ch.condition(HTN, onset=at(2500), recorded=at(2500))
    ch.condition(HLD, onset=at(2400), recorded=at(2400))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(10), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(SIMVA_40, slug="simvastatin", authored=at(800), reason=HLD)
    ch.med_request(AMLODIPINE_10, slug="amlodipine", authored=at(600), reason=HTN)
    return ch, {
        "description": "62-year-old woman on simvastatin 40 mg with amlodipine 10 mg and right calf pain: a dose above the label's 20 mg/day limit with amlodipine, named on statin-muscle-symptoms; a dose limit does not fire statin-drug-interaction.",
        "expectTopics": [SMS],
        "expectDetail": {SMS: "above the label's limit of 20 mg/day with amlodipine"},
        "silentTopics": [{"topic": SDI, "why": "dose-limit combination, not a contraindication"},
                         {"topic": DVA, "why": NO_RISK}],
    }


# ---------------------------------------------------------------- 52 simvastatin 40 + amlodipine, no symptoms
@fixture
def f52():
    ch = Chart("calf-simva-amlo-quiet-52")
    ch.patient("Cornelius60", "Abara-Whitlock1", "male", "1962-03-03")
    base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=27.5, height=180, hr=71)
    ch.condition(HTN, onset=at(2500), recorded=at(2500))
    ch.condition(HLD, onset=at(2400), recorded=at(2400))
    ch.med_request(SIMVA_40, slug="simvastatin", authored=at(800), reason=HLD)
    ch.med_request(AMLODIPINE_10, slug="amlodipine", authored=at(600), reason=HTN)
    return ch, {
        "description": "Near-miss: 64-year-old man on simvastatin 40 mg with amlodipine 10 mg and no symptoms: dose-limit combinations are common and do not fire on their own.",
        "expectTopics": [],
        "silentTopics": [{"topic": SDI, "why": "dose limit only"}, {"topic": SMS, "why": "no symptom, no CK"}],
    }


# ---------------------------------------------------------------- 53 K 2.4 no diuretic
@fixture
def f53():
    ch = Chart("calf-k-crit-53")
    ch.patient("Odette81", "Fairweather-Nnamdi2", "female", "1978-05-05")
    base(ch, reasons=[IBS_ICD], kind=FOLLOWUP, bmi=22.4, height=164, hr=88)
    ch.condition(IBS_ICD, onset=at(900), recorded=at(900), note="Two weeks of diarrhoea.")
    k_lab(ch, 2.4, 1, "LL")
    return ch, {
        "description": "48-year-old woman with diarrhoea, K 2.4 mmol/L yesterday, no diuretic and no leg symptom: a critical value fires electrolyte-deficiency without symptoms.",
        "expectTopics": [EDF],
        "expectIndicators": {EDF: "critical"},
        "silentTopics": [{"topic": "diuretic-electrolyte-depletion", "why": "no diuretic"}],
    }


# ---------------------------------------------------------------- 54 K 3.2 + digoxin + cramps
@fixture
def f54():
    ch = Chart("calf-k-digoxin-54")
    ch.patient("Leopold12", "Strand-Okafor7", "male", "1959-11-11")
    prior, ctx = base(ch, reasons=[CRAMP_ICD], bmi=24.9, height=174, hr=64)
    ch.condition(HTN, onset=at(4000), recorded=at(4000))
    ch.condition(CRAMP_ICD, slug="cramps", onset=at(7), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(DIGOXIN_125, slug="digoxin", authored=at(700), reason=HTN)
    ch.med_request(LISINOPRIL_10, authored=at(1500), reason=HTN)
    k_lab(ch, 3.2, 6, "L")
    return ch, {
        "description": "67-year-old man on digoxin, leg cramps, K 3.2 mmol/L, no diuretic: electrolyte-deficiency raised to critical by digoxin (toxicity risk).",
        "expectTopics": [EDF],
        "expectIndicators": {EDF: "critical"},
        "expectDetail": {EDF: "digoxin toxicity"},
        "silentTopics": [{"topic": DVA, "why": NO_RISK}],
    }


# ---------------------------------------------------------------- 55 K 3.3 no symptoms
@fixture
def f55():
    ch = Chart("calf-k-quiet-55")
    ch.patient("Margery45", "Tolland-Eze3", "female", "1970-01-19")
    base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=25.0, height=160, hr=72)
    ch.condition(HTN, onset=at(1000), recorded=at(1000))
    ch.med_request(LISINOPRIL_10, authored=at(900), reason=HTN)
    k_lab(ch, 3.3, 10, "L")
    return ch, {
        "description": "Near-miss: 56-year-old woman, K 3.3 mmol/L, no diuretic, no leg or muscle symptom: not critical, so no card.",
        "expectTopics": [],
        "silentTopics": [{"topic": EDF, "why": "no symptom and K not below 2.5"}],
    }


# ---------------------------------------------------------------- 56 tibial fracture + pain
@fixture
def f56():
    ch = Chart("calf-tibia-fracture-56")
    ch.patient("Torsten66", "Blackwood-Ani9", "male", "1990-07-07")
    prior, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=24.0, height=183, hr=96)
    ch.condition(TIBIA_FRACTURE_R, slug="fracture", onset=at(3, 16), recorded=at(3, 18), category="encounter-diagnosis")
    ch.procedure(TIBIA_ORIF, at(2, 9), slug="orif", end=at(2, 11))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(0, 6), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    return ch, {
        "description": "36-year-old man with a closed right tibial shaft fracture 3 days ago, fixed the next day, now right calf pain: compartment-syndrome-risk (critical, urgent same-day assessment).",
        "expectTopics": [CSR],
        "expectIndicators": {CSR: "critical"},
        "silentTopics": [{"topic": RHB, "why": "no CK, no coded rhabdomyolysis"},
                         {"topic": DVA, "why": "the fixation carries a site-local procedure code outside the VSAC surgery sets, so no Wells surgery point; age 36"}],
    }


# ---------------------------------------------------------------- 57 fracture 10 days ago
@fixture
def f57():
    ch = Chart("calf-ankle-fracture-old-57")
    ch.patient("Henrietta30", "Quaye-Lindgren4", "female", "1985-10-10")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=23.1, height=168, hr=74)
    ch.condition(ANKLE_FRACTURE, slug="fracture", onset=at(10, 14), recorded=at(10, 15), category="encounter-diagnosis")
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(1), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    return ch, {
        "description": "Near-miss: 41-year-old woman with an ankle fracture 10 days ago and left calf pain now: outside the 7-day compartment window.",
        "expectTopics": [],
        "silentTopics": [{"topic": CSR, "why": "fracture 10 days ago (window 7 days)"}, {"topic": DVA, "why": NO_RISK}],
    }


# ---------------------------------------------------------------- 58 levofloxacin ended + Achilles
@fixture
def f58():
    ch = Chart("calf-levo-achilles-58")
    ch.patient("Gideon58", "Marchetti-Obi2", "male", "1959-02-14")
    prior, ctx = base(ch, reasons=[ACHILLES_R], bmi=26.0, height=177, hr=72)
    ch.condition(KIDNEY_TX, onset=at(2000), recorded=at(2000))
    ch.condition(ACHILLES_R, slug="achilles", onset=at(3), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(LEVOFLOX_500, slug="levofloxacin", authored=at(19), status="completed",
                   dose="Take 1 tablet by mouth once daily for 7 days", refills=0, days_supply=7)
    ch.med_request(PREDNISONE_20, slug="prednisone", authored=at(300), dose="Take 1 tablet by mouth once daily")
    return ch, {
        "description": "67-year-old kidney-transplant recipient on prednisone, a 7-day levofloxacin course ended 12 days ago, now right Achilles tendinitis: fluoroquinolone-tendon-risk naming age over 60, corticosteroid and transplant.",
        "expectTopics": [FQT],
        "expectDetail": {FQT: "age 67 (over 60)"},
        "silentTopics": [{"topic": DVA, "why": "Achilles tendinitis is not calf pain"}],
    }


# ---------------------------------------------------------------- 59 ciprofloxacin eye drops + Achilles
@fixture
def f59():
    ch = Chart("calf-cipro-eye-59")
    ch.patient("Winifred20", "Osei-Hartmann5", "female", "1968-06-06")
    prior, ctx = base(ch, reasons=[ACHILLES_R], bmi=24.0, height=165, hr=70)
    ch.condition(ACHILLES_R, slug="achilles", onset=at(4), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    ch.med_request(CIPRO_EYE, slug="ciprofloxacin-eye", authored=at(6), dose="Instil 1 drop in the left eye four times daily",
                   refills=0, days_supply=7)
    return ch, {
        "description": "Near-miss: 58-year-old woman using ciprofloxacin eye drops with right Achilles tendinitis: the boxed warning concerns systemic fluoroquinolones, so no card.",
        "expectTopics": [],
        "silentTopics": [{"topic": FQT, "why": "ophthalmic ciprofloxacin is not systemic exposure"}],
    }


# ---------------------------------------------------------------- 60 sciatica + calf pain
@fixture
def f60():
    ch = Chart("calf-sciatica-60")
    ch.patient("Barnaby14", "Nwosu-Pemberton8", "male", "1975-03-25")
    prior, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=27.3, height=180, hr=70)
    ch.condition(SCIATICA_L, slug="sciatica", onset=at(200), recorded=at(200))
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(6), recorded=at(0, 10, 50), enc=ctx, category="encounter-diagnosis")
    return ch, {
        "description": "51-year-old man with documented left-sided sciatica and left calf pain: sciatica-referred-pain (info).",
        "expectTopics": [SCI],
        "silentTopics": [{"topic": DVA, "why": NO_RISK}],
    }


# ---------------------------------------------------------------- 61 sciatica without leg pain
@fixture
def f61():
    ch = Chart("calf-sciatica-quiet-61")
    ch.patient("Clementine9", "Akande-Royce2", "female", "1972-09-12")
    base(ch, reasons=[LBP_ICD], kind=FOLLOWUP, bmi=25.8, height=170, hr=72)
    ch.condition(SCIATICA_L, slug="sciatica", onset=at(400), recorded=at(400))
    ch.condition(LBP_ICD, onset=at(5), recorded=at(0, 10, 50))
    return ch, {
        "description": "Near-miss: 54-year-old woman with documented sciatica seen for low back pain, no calf or leg pain recorded: no card.",
        "expectTopics": [],
        "silentTopics": [{"topic": SCI, "why": "no calf or leg pain recorded"}],
    }


# ---------------------------------------------------------------- 62 coded rhabdomyolysis, no CK
@fixture
def f62():
    ch = Chart("calf-rhabdo-coded-62")
    ch.patient("Ulysses77", "Fontaine-Adeyemi6", "male", "1996-04-04")
    prior, ctx = base(ch, reasons=[RHABDO], kind=FOLLOWUP, bmi=23.5, height=185, hr=80)
    ch.condition(RHABDO, slug="rhabdo", onset=at(4), recorded=at(4), note="Exertional, after a marathon; discharged from hospital yesterday.")
    return ch, {
        "description": "30-year-old man with rhabdomyolysis coded 4 days ago (M62.82) and no CK in the record: rhabdomyolysis-risk fires without a CK.",
        "expectTopics": [RHB],
        "expectIndicators": {RHB: "critical"},
        "silentTopics": [{"topic": SMS, "why": "no statin"}],
    }


# ---------------------------------------------------------------- 63 crush syndrome
@fixture
def f63():
    ch = Chart("calf-crush-63")
    ch.patient("Evangeline3", "Mbeki-Thornton4", "female", "1980-12-24")
    prior, ctx = base(ch, reasons=[CRUSH_LOWER_LEG_L], kind=FOLLOWUP, bmi=24.2, height=166, hr=84)
    ch.condition(CRUSH_LOWER_LEG_L, slug="crush-injury", onset=at(2, 7), recorded=at(2, 9), category="encounter-diagnosis")
    ch.condition(CRUSH_SYNDROME, slug="crush-syndrome", onset=at(2, 12), recorded=at(2, 12))
    return ch, {
        "description": "45-year-old woman with a crush injury of the left lower leg 2 days ago and crush syndrome coded, no leg pain recorded since: rhabdomyolysis-risk without a CK; no compartment card without leg pain or swelling.",
        "expectTopics": [RHB],
        "silentTopics": [{"topic": CSR, "why": "no leg pain or swelling recorded since the injury"}],
    }


# ---------------------------------------------------------------- 64 old coded rhabdomyolysis
@fixture
def f64():
    ch = Chart("calf-rhabdo-old-64")
    ch.patient("Percival50", "Adjei-Sorensen1", "male", "1988-08-08")
    base(ch, reasons=[HTN], kind=FOLLOWUP, bmi=25.5, height=179, hr=70)
    ch.condition(RHABDO, slug="rhabdo", onset=at(20), recorded=at(20))
    return ch, {
        "description": "Near-miss: 38-year-old man with rhabdomyolysis coded 20 days ago: outside the 14-day window, no card.",
        "expectTopics": [],
        "silentTopics": [{"topic": RHB, "why": "coded 20 days ago (window 14 days)"}],
    }
