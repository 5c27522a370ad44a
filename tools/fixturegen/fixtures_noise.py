"""Issue 7 "less noise" fixtures (65-70): the leg-localised gate of the DVT cards, obesity
from current evidence, the info/warning split of dvt-assessment and a current DVT.
Each behaviour has a fixture that fires and a near-miss that stays silent."""
from lib import Chart, at, SCT, ICD
from codes import *  # noqa: F403 (c and the shared codes)
from fixtures import base, fixture, silent

DVA = "dvt-assessment"; DRF = "dvt-red-flags"; SMS = "statin-muscle-symptoms"

GENERIC_CRAMP = c((ICD, "R25.2", "Cramp and spasm"), text="Cramps")
OBESITY_SCT = c((SCT, "414916001", "Obesity (disorder)"), (ICD, "E66.9", "Obesity, unspecified"), text="Obesity")
APIXABAN_5 = ("1364445", "apixaban 5 MG Oral Tablet")


# ---------------------------------------------------------------- 65 viral picture, no DVT card
@fixture
def f65():
    ch = Chart("calf-viral-65")
    ch.patient("Wilhelmina9", "Oduya-Sterne3", "female", "1951-05-03")
    _, ctx = base(ch, reasons=[MYALGIA_ICD, DYSPNEA], bmi=26.0, height=165, hr=88)
    ch.condition(MYALGIA_ICD, slug="myalgia", onset=at(3), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    ch.condition(DYSPNEA, slug="dyspnoea", onset=at(3), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    return ch, {
        "description": "Near-miss: 75-year-old woman with generalised myalgia and shortness of breath for 3 days (the viral-illness picture): no leg-localised symptom, so neither DVT card.",
        "expectTopics": [],
        "silentTopics": silent(DVA="generalised myalgia is not a leg-localised symptom (age 75 alone would be a risk factor)",
                               DRF="dyspnoea raises the red-flag card only with a leg-localised symptom"),
    }


# ---------------------------------------------------------------- 66 generic cramps over 70
@fixture
def f66():
    ch = Chart("calf-cramps-66")
    ch.patient("Bartholomew4", "Nakashima-Hart7", "male", "1948-08-19")
    _, ctx = base(ch, reasons=[GENERIC_CRAMP], bmi=25.5, height=176, hr=70)
    ch.condition(GENERIC_CRAMP, slug="cramps", onset=at(9), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    return ch, {
        "description": "Near-miss: 78-year-old man with cramps of no stated site (R25.2) and no drug or lab cause: no DVT card and no D-dimer order.",
        "expectTopics": [],
        "silentTopics": silent(DVA="a cramp without a site does not open the DVT cards, whatever the age"),
    }


# ---------------------------------------------------------------- 67 calf cramp over 70: info
@fixture
def f67():
    ch = Chart("calf-spasm-67")
    ch.patient("Cordelia6", "Ferreira-Voss2", "female", "1949-02-11")
    _, ctx = base(ch, reasons=[CALF_SPASM_ICD], bmi=24.8, height=162, hr=72)
    ch.condition(CALF_SPASM_ICD, slug="calf-spasm", onset=at(6), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    return ch, {
        "description": "77-year-old woman with a muscle spasm of the calf (M62.831, a leg-localised cramp) and age as the only DVT risk factor: dvt-assessment as info (no Wells point).",
        "expectTopics": [DVA],
        "expectIndicators": {DVA: "info"},
        "expectDetail": {DVA: "The chart gives no Wells point: the bedside items decide the score."},
        "silentTopics": silent(DRF="no swelling, warmth, PE symptom or D-dimer"),
    }


# ---------------------------------------------------------------- 68 old obesity, lean now
@fixture
def f68():
    ch = Chart("calf-old-obesity-68")
    ch.patient("Ignatius2", "Brennan-Okafor5", "male", "1962-10-30")
    _, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=26.1, height=180, hr=70)
    ch.condition(OBESITY_SCT, slug="obesity", onset="1986-04-02T09:00:00Z", recorded="1986-04-02T09:00:00Z")
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(5), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    return ch, {
        "description": "Near-miss: 64-year-old man with right calf pain; an obesity condition from 1986 is still active but today's BMI is 26.1: obesity is not a current risk factor, so no DVT card.",
        "expectTopics": [],
        "silentTopics": silent(DVA="obesity condition from 1986 contradicted by the latest BMI 26.1; no other risk factor"),
    }


# ---------------------------------------------------------------- 69 current DVT on apixaban
@fixture
def f69():
    ch = Chart("calf-current-dvt-69")
    ch.patient("Marisol8", "Quennell-Abara1", "female", "1968-07-07")
    _, ctx = base(ch, reasons=[CALF_PAIN_L], bmi=27.0, height=168, hr=78)
    ch.condition(DVT_L_ICD, slug="dvt", onset=at(40), recorded=at(40))
    ch.med_request(APIXABAN_5, slug="apixaban", authored=at(40), dose="Take 1 tablet by mouth twice daily", per_day=2)
    ch.condition(CALF_PAIN_L, slug="calf-pain", onset=at(4), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    return ch, {
        "description": "58-year-old woman with left calf pain and an active left-leg DVT diagnosed 40 days ago, on apixaban: the DVT is already documented (not 'prior DVT'), info card without a D-dimer order.",
        "expectTopics": [DVA],
        "expectIndicators": {DVA: "info"},
        "expectDetail": {DVA: "already documented as active"},
        "expectNoSuggestion": {DVA: "D-dimer"},
        "silentTopics": silent(DRF="no swelling, warmth, PE symptom or D-dimer in 7 days"),
    }


# ---------------------------------------------------------------- 70 calf pain + cancer: warning
@fixture
def f70():
    ch = Chart("calf-cancer-70")
    ch.patient("Evander5", "Lindqvist-Mbeki9", "male", "1970-01-15")
    _, ctx = base(ch, reasons=[CALF_PAIN_R], bmi=32.4, height=177, hr=74)
    ch.condition(LUNG_CA, slug="lung-cancer", onset=at(120), recorded=at(120))
    ch.condition(CALF_PAIN_R, slug="calf-pain", onset=at(3), recorded=at(0, 10, 50), category="encounter-diagnosis", enc=ctx)
    return ch, {
        "description": "56-year-old man with right calf pain, active lung cancer (a Wells point) and BMI 32.4: dvt-assessment as a warning with the partial Wells score.",
        "expectTopics": [DVA],
        "expectIndicators": {DVA: "warning"},
        "expectDetail": {DVA: "at least 1 point from chart data"},
        "silentTopics": silent(DRF="no swelling, warmth, PE symptom or D-dimer"),
    }
