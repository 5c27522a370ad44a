"""The shared vocabulary: group names that terminology maps codes to and rules ask for.

A leaf module (it imports nothing of the package): ``terminology/`` classifies codes into
these groups and ``clinical/`` reasons over them, so terminology sits below the rules and
never imports them. ``tools/build_terminology.py`` writes the same names into
``data/terminology.json`` (``tests/test_terminology.py`` keeps them in step).
"""

from __future__ import annotations

from typing import Literal

# --- medication classes -------------------------------------------------------------
STATIN = "statin"
DIURETIC_THIAZIDE = "diuretic-thiazide"  # thiazide and thiazide-like (K- and Mg-wasting)
DIURETIC_LOOP = "diuretic-loop"  # K- and Mg-wasting
DIURETIC_CAI = "diuretic-cai"  # carbonic anhydrase inhibitor (K-wasting)
DIURETIC_K_SPARING = "diuretic-k-sparing"  # aldosterone antagonists and ENaC blockers
K_WASTING_DIURETICS = frozenset({DIURETIC_THIAZIDE, DIURETIC_LOOP, DIURETIC_CAI})
HORMONAL_ESTROGEN = "hormonal-estrogen"  # estrogen contraceptives, HRT, SERMs (VTE risk)
STATIN_INTERACTING = "statin-interacting"  # clinical.md §1.5 (advisory co-factor)

# --- lab groups (values in canonical units) -----------------------------------------
POTASSIUM = "potassium"  # mmol/L
MAGNESIUM = "magnesium"  # mmol/L (serum/plasma only)
VITAMIN_D = "vitamin-d-25oh"  # ng/mL: total 25-OH vitamin D (D2 + D3)
VITAMIN_D3 = "vitamin-d3-25oh"  # ng/mL: the 25-OH vitamin D3 fraction alone (1989-3, 14635-7)
CK = "ck"  # U/L
D_DIMER = "d-dimer"  # ng/mL FEU
TSH = "tsh"  # mIU/L
EGFR = "egfr"  # mL/min/1.73m2
CREATININE = "creatinine"  # mg/dL
HBA1C = "hba1c"  # %
BMI = "bmi"  # kg/m2
ABI = "abi"  # ratio

# --- condition / finding groups -----------------------------------------------------
# symptoms (the symptom gate)
CALF_PAIN = "calf-pain"  # calf pain, pain in lower leg, leg pain
MYALGIA = "myalgia"
MUSCLE_CRAMP = "muscle-cramp"
MUSCLE_WEAKNESS = "muscle-weakness"
LEG_SWELLING = "leg-swelling"
SYMPTOM_GROUPS = frozenset({CALF_PAIN, MYALGIA, MUSCLE_CRAMP, MUSCLE_WEAKNESS, LEG_SWELLING})
# DVT signs and PE symptoms (red flags)
LEG_WARMTH_REDNESS = "leg-warmth-redness"
PE_SYMPTOM = "pe-symptom"  # dyspnoea, chest pain, tachycardia, syncope
# DVT risk factors and history
DVT = "dvt"  # acute DVT or PE (active) – also counts as prior DVT/PE when historical
VTE_HISTORY = "vte-history"  # Z86.711 / Z86.718 and resolved DVT/PE
ACTIVE_CANCER = "active-cancer"
PREGNANCY = "pregnancy"
POSTPARTUM = "postpartum"
OBESITY = "obesity"
IMMOBILITY = "immobility"  # bedridden, paralysis, wheelchair
THROMBOPHILIA = "thrombophilia"
HORMONE_THERAPY = "hormone-therapy"  # Z79.890 / Z79.3 / Z79.818 codes
HEART_FAILURE = "heart-failure"
# statin-myopathy risk factors
HYPOTHYROIDISM = "hypothyroidism"
CKD = "ckd"
# other causes
DIABETES = "diabetes"
DIABETIC_NEUROPATHY = "diabetic-neuropathy"
PAD = "pad"  # peripheral artery disease / claudication
RHABDOMYOLYSIS = "rhabdomyolysis"
# procedures
SURGERY = "surgery"
LIMB_IMMOBILISATION = "limb-immobilisation"  # casts, splints (text match)

# --- issue 7: statin label interactions, electrolytes, compartment syndrome, tendons -------
# Medication groups (ingredients by name/RxCUI; sources in data/terminology.json)
FLUOROQUINOLONE = "fluoroquinolone"  # systemic fluoroquinolones (boxed tendon warning)
CYP3A4_STRONG_INHIBITOR = "cyp3a4-strong-inhibitor"  # as listed in the simvastatin label §4/§7.1
FIBRATE = "fibrate"  # fenofibrate, fenofibric acid, gemfibrozil, bezafibrate
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
CORTICOSTEROID_SYSTEMIC = "corticosteroid-systemic"
VITAMIN_D2_SUPPLEMENT = "vitamin-d2"  # ergocalciferol: a D3-fraction result misses it
CORTICOSTEROID_LOCAL = "corticosteroid-local"  # topical/ophthalmic/otic/inhaled: not systemic
# Condition / finding groups
LOWER_LEG_FRACTURE = "lower-leg-fracture"
CRUSH_INJURY = "crush-injury"  # crush injury of the leg and crush syndrome
CRUSH_SYNDROME = "crush-syndrome"  # crush syndrome itself (also in crush-injury)
SCIATICA = "sciatica"  # lumbar radiculopathy / sciatica
TENDON_PAIN = "tendon-pain"  # Achilles / heel / tendon pain, tendinitis, tendon rupture
ORGAN_TRANSPLANT = "organ-transplant"  # kidney, heart, lung transplant status
# Procedure groups
LEG_SURGERY = "leg-surgery"  # surgery on the lower leg, knee, ankle or tibia/fibula
LEG_CAST = "leg-cast"  # cast or splint of the lower limb

MatchPath = Literal["product", "ingredient", "atc", "text"]
FindingSource = Literal["condition", "encounter-reason", "observation"]
