"""Condition, finding and procedure groups of ``terminology.json`` (build time only).

Each group is a list of slices (``tools/terminology_sources.py``): VSAC expansions with
their documented filters, ICD-10-CM tabular subtrees, assembled SNOMED CT lists. The rule
text of each slice is what ``docs/terminology.md`` shows.
"""

from __future__ import annotations

import re
from typing import Any

from terminology_sources import ICD_SOURCE, Groups, SourceRegistry

V21 = "vsac-ecqm-2021"
V25 = "vsac-ecqm-2025"
VTE_SYMPTOMS = (V25, "2.16.840.1.113762.1.4.1206.51")
CLINICAL = "named in shared/reference/clinical.md §3"

# PAD: peripheral only. ICD-10-CM I70.2-I70.7 are atherosclerosis of the arteries / bypass
# grafts of the extremities; E08.5-/E09.5- diabetic peripheral angiopathy. I25.- (coronary),
# I67.2 (cerebral), I70.0 (aorta), I70.1 (renal), I70.8 (other arteries) and I70.9
# (generalised / unspecified) are dropped.
PAD_ICD_KEEP = ("I70.2", "I70.3", "I70.4", "I70.5", "I70.6", "I70.7", "E08.5", "E09.5")
PAD_SCT_DROP = re.compile(r"coronary|cerebr|carotid|renal|heart|abdominal aortic|"
                          r"^Atherosclerosis of aorta|^Generalized|^Atherosclerosis of artery \(|"
                          r"^Ischemic ulcer \(", re.I)
PAD_RULE = ("peripheral only: ICD-10-CM I70.2-I70.7 (arteries and bypass grafts of the "
            "extremities) and E08.5-/E09.5-; coronary (I25.-), cerebral (I67.2), aortic, renal, "
            "carotid and generalised atherosclerosis dropped")
# Diabetic neuropathy: peripheral, sensory, motor, mononeuropathy, polyneuropathy,
# amyotrophy / radiculoplexus, neuropathic arthropathy; NOT autonomic.
NEURO_KEEP = re.compile(r"neuropath|amyotroph|radiculoplexus", re.I)
NEURO_DROP = re.compile(r"autonomic", re.I)
NEURO_RULE = ("diabetic neuropathy entries (peripheral, sensory, motor, mono-/poly-"
              "neuropathy, amyotrophy, neuropathic arthropathy); autonomic neuropathy dropped")
DIABETES_PREFIXES = ("E08", "E09", "E10", "E11", "E13")


def build_conditions(b: SourceRegistry) -> dict[str, Any]:
    g = Groups(b)
    b.add_source("clinical.md", title="Calf-pain clinical and terminology reference", oid=None,
                 file="shared/reference/clinical.md", version=None, expansion=None,
                 origin="shared reference (ICD-10-CM codes checked against the CDC April-2026 "
                 "release)")
    b.add_source(ICD_SOURCE, title="ICD-10-CM tabular list, CDC/NCHS April 2026 release",
                 oid="2.16.840.1.113883.6.90", file=None, version="April 2026", expansion=None,
                 origin="PyPI simple-icd-10-cm 1.5.0 (bundles the CDC tabular files)")

    # Symptoms ---------------------------------------------------------------------------
    g.vsac("calf-pain", *VTE_SYMPTOMS, keep=re.compile(r"^Pain in (calf|lower limb)"),
           rule="'Pain in calf' and 'Pain in lower limb' entries")
    g.icd_codes("calf-pain", ["M79.604", "M79.605", "M79.606"],
                "pain in leg (M79.60- without M79.601-.603, pain in arm)")
    g.icd_tree("calf-pain", ["M79.66"])
    g.vsac("myalgia", V21, "2.16.840.1.113762.1.4.1108.85")
    g.icd_codes("myalgia", ["G72.0"], CLINICAL)
    g.icd_tree("myalgia", ["M79.1"], rule="ICD-10-CM M79.1 myalgia and descendants (never "
               "M79.7 fibromyalgia)")
    g.closure("myalgia", "muscle-pain", "SNOMED CT Muscle pain (no expansion holds it)")
    g.icd_codes("muscle-cramp", ["R25.2"], CLINICAL)
    g.icd_tree("muscle-cramp", ["M62.83"])
    g.vsac("muscle-weakness", V21, "2.16.840.1.113883.3.464.1004.1533",
           keep=re.compile(r"muscle weakness|calf muscle|quadriceps weakness|proximal muscle|"
                           r"distal muscle|weakness of distal arms and legs", re.I),
           drop=re.compile(r"upper limb|hand|gait|neurological|pyramidal", re.I),
           systems={"sct"}, rule="muscle-weakness findings of the lower limb or generalised; "
           "upper-limb, hand, gait and neurological weakness dropped")
    g.icd_codes("muscle-weakness", ["M62.81"], "Muscle weakness (generalized)")
    g.vsac("leg-swelling", *VTE_SYMPTOMS, keep=re.compile(r"swelling", re.I),
           rule="swelling entries")
    g.icd_codes("leg-swelling", ["R60.0"], "Localized edema (clinical.md §3)")
    g.icd_tree("leg-swelling", ["R22.4"], rule="ICD-10-CM R22.4 localized swelling of the "
               "lower limb: R22.40 unspecified, R22.41 right, R22.42 left, R22.43 bilateral")
    g.closure("leg-swelling", "oedema-lower-limb", "SNOMED CT Edema of lower extremity")
    g.vsac("leg-warmth-redness", *VTE_SYMPTOMS,
           keep=re.compile(r"^Warm|Tenderness in lower limb", re.I),
           rule="warmth and lower-limb tenderness entries")
    g.vsac("pe-symptom", *VTE_SYMPTOMS, keep=re.compile(r"^(Dyspnea|Chest pain|Tachycardia|Syncope)"),
           rule="dyspnoea, chest pain, tachycardia and syncope entries")
    g.icd_codes("pe-symptom", ["R07.1", "R07.9", "R00.0", "R55"],
                "chest pain on breathing, chest pain unspecified, tachycardia, syncope")
    g.icd_tree("pe-symptom", ["R06.0"])

    # VTE ---------------------------------------------------------------------------------
    superficial = re.compile(r"superficial|cerebral|intracranial|soap|air embol", re.I)
    no_superficial = "superficial, cerebral/intracranial and air/soap embolism entries dropped"
    g.vsac("dvt", V21, "2.16.840.1.113883.3.117.1.7.1.279", drop=superficial, rule=no_superficial)
    g.vsac("dvt", V25, "2.16.840.1.113762.1.4.1206.49", drop=superficial, rule=no_superficial)
    obstetric = re.compile(r"deep|pulmonary|thromboembol|phlebothromb|phlegmasia", re.I)
    for folder, oid in [(V21, "2.16.840.1.113883.3.117.1.7.1.264"),
                        (V25, "2.16.840.1.113762.1.4.1029.363")]:
        g.vsac("dvt", folder, oid, keep=obstetric, drop=superficial,
               rule="deep/pulmonary/thromboembolic entries; " + no_superficial)
    g.snomed("dvt", ["128053003", "404223003", "444325005", "213220000", "59282003",
                     "233935004"], CLINICAL)
    g.icd_codes("dvt", ["I80.3"], CLINICAL)
    g.icd_tree("dvt", ["I82.4", "I82.5", "I80.2", "I26"])
    g.icd_codes("vte-history", ["Z86.711", "Z86.718"], "personal history of PE / other VTE")

    # DVT risk factors -------------------------------------------------------------------
    history = re.compile(r"history of|personal history", re.I)
    not_z85 = (lambda key, code: not (key == "icd10cm" and code.upper().startswith("Z85")))
    for oid in ("2.16.840.1.113762.1.4.1111.161", "2.16.840.1.113883.3.526.3.1010"):
        g.vsac("active-cancer", V21, oid, drop=history, keep_code=not_z85,
               rule="'history of' entries and Z85 (personal history of malignancy) dropped")
    g.snomed("active-cancer", ["363346000", "128462008"], CLINICAL)
    g.icd_tree("active-cancer", ["C00-C96"], rule="ICD-10-CM block C00-C96 (malignant "
               "neoplasms, incl. C4A, C7A, C7B): every category and its descendants")
    g.vsac("pregnancy", V21, "2.16.840.1.113883.3.526.3.378")
    g.vsac("pregnancy", V21, "2.16.840.1.113883.3.600.1.1623")
    g.snomed("pregnancy", ["77386006", "72892002"], CLINICAL)
    g.icd_codes("pregnancy", ["Z33.1"], "Pregnant state, incidental")
    g.icd_tree("pregnancy", ["Z34"])
    g.vsac("postpartum", V21, "2.16.840.1.113883.3.464.1003.111.12.1012",
           keep=re.compile(r"postpartum|post-partum|puerper|postnatal", re.I),
           rule="puerperium / postpartum entries of the pregnancy-complications set")
    g.snomed("postpartum", ["86569001"], CLINICAL)
    g.icd_tree("postpartum", ["Z39", "O90", "O87"])
    overweight = re.compile(r"overweight|25-29", re.I)
    for folder, oid in [(V21, "2.16.840.1.113762.1.4.1047.502"),
                        (V21, "2.16.840.1.113762.1.4.1164.67"),
                        (V25, "2.16.840.1.113762.1.4.1248.162"),
                        (V25, "2.16.840.1.113762.1.4.1029.290")]:
        g.vsac("obesity", folder, oid, drop=overweight,
               rule="overweight and BMI 25-29 entries dropped")
    g.icd_codes("obesity", ["E66.811", "E66.812", "E66.813"]
                + [f"Z68.{n}" for n in range(30, 40)] + [f"Z68.4{n}" for n in range(1, 6)],
                "obesity classes 1-3 and BMI 30 and over")
    g.icd_tree("obesity", ["E66"], exclude=("E66.3",),
               rule="ICD-10-CM E66 and descendants except E66.3 Overweight")
    immobility_rule = "bed-ridden, wheelchair-bound, very poor mobility, paralysis entries"
    g.vsac("immobility", V21, "2.16.840.1.113883.3.464.1004.1533",
           keep=re.compile(r"bed-ridden|bedridden|wheelchair bound|dependence on wheelchair|"
                           r"mobility very poor|paralysis$", re.I),
           drop=re.compile(r"pseudo", re.I), systems={"sct"},
           rule=immobility_rule + "; pseudoparalysis dropped")
    g.vsac("immobility", V25, "2.16.840.1.113762.1.4.1248.239",
           keep=re.compile(r"quadripleg|tetrapleg", re.I), systems={"sct"},
           rule="quadriplegia entries (periodic paralysis and other neuromuscular disorders "
           "are not taken)")
    g.vsac("immobility", V21, "2.16.840.1.113762.1.4.1047.44",
           keep=re.compile(r"paralytic syndrome of (both lower|all four) limbs|"
                           r"monoplegia of (the )?((non)?dominant )?lower limb|hemipleg|"
                           r"hemipares|paralytic syndrome (on one side|of (non)?dominant side)",
                           re.I), systems={"sct"},
           rule="paralysis of the lower limbs, hemiplegia/hemiparesis and lower-limb "
           "monoplegia after stroke (upper-limb monoplegia and stroke itself not taken)")
    g.closure("immobility", "paralysis-lower-limbs", "SNOMED CT paraplegia / spinal-cord "
              "paralysis (no expansion holds them)")
    g.snomed("immobility", ["160685001", "11538006"], CLINICAL)
    g.icd_codes("immobility", ["Z74.01", "Z74.09", "Z99.3"],
                "bed confinement, other reduced mobility, dependence on wheelchair")
    g.icd_tree("immobility", ["G81", "G82", "G83.1"],
               rule="ICD-10-CM G81 hemiplegia, G82 paraplegia and quadriplegia, G83.1 "
               "monoplegia of lower limb, and descendants")
    g.icd_tree("immobility", [f"I69.{site}{kind}" for site in "0123 89".replace(" ", "")
                              for kind in "45"],
               rule="ICD-10-CM I69.x4 monoplegia of lower limb and I69.x5 hemiplegia following "
               "cerebrovascular disease, and descendants")
    g.icd_codes("thrombophilia", ["D68.51", "D68.52", "D68.59", "D68.61", "D68.62", "D68.69"],
                "activated protein C resistance, prothrombin mutation, other primary and "
                "secondary thrombophilia")
    g.snomed("thrombophilia", ["441697004"], CLINICAL)
    g.icd_codes("hormone-therapy", ["Z79.890", "Z79.3", "Z79.818"],
                "long-term hormone replacement, hormonal contraceptives, other estrogen "
                "receptor modulators")
    g.vsac("heart-failure", V21, "2.16.840.1.113883.3.526.3.376")
    g.snomed("heart-failure", ["84114007", "42343007"], CLINICAL)
    g.icd_tree("heart-failure", ["I50"])

    # Statin-myopathy risk factors / other causes ------------------------------------------
    g.closure("hypothyroidism", "hypothyroidism", "SNOMED CT Hypothyroidism")
    g.g("hypothyroidism")["unverified"].add("sct:40930008 (CORROBORATED only)")
    g.icd_codes("hypothyroidism", ["E89.0"], "postprocedural hypothyroidism")
    g.icd_tree("hypothyroidism", ["E03"])
    acute = re.compile(r"acute|unspecified kidney failure|renal failure, unspecified", re.I)
    for oid in ("2.16.840.1.113883.3.464.1003.109.12.1028",
                "2.16.840.1.113883.3.464.1003.109.12.1017",
                "2.16.840.1.113883.3.526.3.1002", "2.16.840.1.113883.3.526.3.353"):
        g.vsac("ckd", V21, oid, drop=acute, rule="acute and unspecified kidney failure dropped")
    g.icd_tree("ckd", ["N18"])
    for oid in ("2.16.840.1.113883.3.464.1003.103.12.1001",
                "2.16.840.1.113883.3.464.1003.103.12.1020"):
        g.vsac("diabetes", V21, oid)
    g.icd_tree("diabetes", list(DIABETES_PREFIXES))
    g.vsac("diabetic-neuropathy", V21, "2.16.840.1.113883.3.464.1003.103.12.1001",
           keep=NEURO_KEEP, drop=NEURO_DROP, systems={"sct", "icd10cm"}, rule=NEURO_RULE)
    g.vsac("diabetic-neuropathy", V25, "2.16.840.1.113762.1.4.1248.175",
           keep=re.compile(r"diabet", re.I), drop=NEURO_DROP,
           rule="diabetic entries of Peripheral Neuropathy; autonomic dropped")
    g.icd_tree("diabetic-neuropathy", [f"{p}.4" for p in DIABETES_PREFIXES],
               exclude=tuple(f"{p}.4{n}" for p in DIABETES_PREFIXES for n in (3, 9)),
               rule="ICD-10-CM E08-E13 .4 diabetes with neurological complications: .40 "
               "unspecified, .41 mononeuropathy, .42 polyneuropathy, .44 amyotrophy; .43 "
               "autonomic and .49 other neurological complication dropped")
    g.vsac("pad", V21, "2.16.840.1.113762.1.4.1047.21", systems={"icd10cm"}, rule=PAD_RULE,
           keep_code=lambda key, code: code.upper().startswith(PAD_ICD_KEEP))
    g.vsac("pad", V21, "2.16.840.1.113762.1.4.1047.21", systems={"sct"}, rule=PAD_RULE,
           drop=PAD_SCT_DROP)
    g.icd_codes("pad", ["I73.9"], "Peripheral vascular disease, unspecified")
    g.icd_tree("pad", [f"{p}.5{n}" for p in DIABETES_PREFIXES for n in (1, 2)],
               rule="ICD-10-CM E08-E13 .51/.52 diabetic peripheral angiopathy")
    g.vsac("rhabdomyolysis", V21, "2.16.840.1.113762.1.4.1047.102")
    g.icd_codes("rhabdomyolysis", ["M62.82"], "Rhabdomyolysis")
    # T79.6 "Traumatic ischemia of muscle" has the inclusion term "Traumatic rhabdomyolysis"
    g.icd_tree("rhabdomyolysis", ["T79.6"], rule="ICD-10-CM T79.6 (inclusion term "
               "'Traumatic rhabdomyolysis') and its 7th-character extensions")

    # Issue 7 groups ------------------------------------------------------------------------
    g.icd_tree("lower-leg-fracture", ["S82"], exclude=("S82.0",),
               rule="ICD-10-CM S82 fracture of lower leg, including ankle, except S82.0 patella")
    g.vsac("lower-leg-fracture", V21, "2.16.840.1.113883.3.464.1003.113.12.1037",
           keep=re.compile(r"tibia|fibula|ankle|malleol|lower leg|pilon", re.I),
           drop=re.compile(r"patella", re.I), systems={"sct"},
           rule="tibia, fibula, ankle and lower-leg fractures of Fracture - Lower Body; "
           "patella dropped")
    g.closure("lower-leg-fracture", "fracture-of-ankle", "SNOMED CT Fracture of ankle")
    g.g("lower-leg-fracture")["unverified"].add("sct:16114001 (seen with its display in Synthea data)")
    g.icd_tree("crush-injury", ["S87", "S97", "T79.5"], rule="ICD-10-CM S87 crushing injury of "
               "lower leg, S97 of ankle and foot, T79.5 traumatic anuria (inclusion term 'Crush "
               "syndrome'), and descendants")
    for grp in ("crush-injury", "crush-syndrome"):
        g.snomed(grp, ["23697004"], "Crush syndrome")
    g.icd_tree("crush-syndrome", ["T79.5"], rule="ICD-10-CM T79.5 (inclusion terms 'Crush "
               "syndrome', 'Renal failure following crushing')")
    g.icd_tree("sciatica", ["M54.16", "M54.17", "M54.3", "M54.4", "M51.16", "M51.17"],
               rule="ICD-10-CM lumbar/lumbosacral radiculopathy M54.16/.17, sciatica M54.3, "
               "lumbago with sciatica M54.4, disc disorder with radiculopathy M51.16/.17")
    g.icd_codes("sciatica", ["M51.361", "M51.362", "M51.371", "M51.372"],
                "disc degeneration with lower-extremity pain (FY2025 codes)")
    g.closure("sciatica", "sciatica", "SNOMED CT Sciatica")
    g.g("sciatica")["unverified"].add("sct:23056005 (CORROBORATED: several public maps pair "
                                      "it with M54.3 sciatica)")
    g.icd_tree("tendon-pain", ["M76.6", "M76.8", "M76.9", "M77.5", "M66.36", "M66.86",
                               "M66.87", "S86.0"],
               rule="ICD-10-CM Achilles tendinitis M76.6, other lower-limb enthesopathies "
               "M76.8/M76.9, foot/ankle enthesopathy M77.5, spontaneous tendon rupture of "
               "the lower leg / ankle and foot M66.36/.86/.87, Achilles tendon injury S86.0")
    g.icd_tree("organ-transplant", ["Z94.0", "Z94.1", "Z94.2", "Z94.3", "T86.1", "T86.2",
                                    "T86.81"],
               rule="ICD-10-CM kidney, heart, lung transplant status and complications (the "
               "fluoroquinolone boxed warning's list)")
    return g.finish()


def build_procedures(b: SourceRegistry) -> dict[str, Any]:
    p = Groups(b)
    for folder, oid in [(V21, "2.16.840.1.113883.3.117.1.7.1.255"),
                        (V25, "2.16.840.1.113883.3.117.1.7.1.255"),
                        (V21, "2.16.840.1.113883.3.117.1.7.1.259"),
                        (V25, "2.16.840.1.113883.3.117.1.7.1.259"),
                        (V21, "2.16.840.1.113883.3.117.1.7.1.261"),
                        (V25, "2.16.840.1.113883.3.117.1.7.1.261"),
                        (V21, "2.16.840.1.113883.3.117.1.7.1.258"),
                        (V25, "2.16.840.1.113883.3.117.1.7.1.258"),
                        (V21, "2.16.840.1.113883.3.117.1.7.1.257"),
                        (V21, "2.16.840.1.113883.3.117.1.7.1.272"),
                        (V21, "2.16.840.1.113883.3.117.1.7.1.260"),
                        (V25, "2.16.840.1.113883.3.3157.4056")]:
        p.vsac("surgery", folder, oid)
    # Leg surgery (compartment syndrome risk): Knee Replacement Surgery, and the Major
    # Surgical Procedure codes whose display names a lower-leg site; uncoded procedures by
    # text (site word + surgical word).
    lower_leg = re.compile(r"\b(tibia|tibial|fibula|fibular|ankle|knee|lower leg|calf|patella|"
                           r"patellar|achilles|popliteal|below[- ]knee)\b", re.I)
    for folder in (V21, V25):
        p.vsac("leg-surgery", folder, "2.16.840.1.113883.3.117.1.7.1.261")
    p.vsac("leg-surgery", V25, "2.16.840.1.113883.3.3157.4056", keep=lower_leg,
           rule="procedures whose display names a lower-leg site (tibia, fibula, ankle, knee, "
           "calf, patella, Achilles, popliteal, below-knee)")
    site = r"(tibia|tibial|fibula|fibular|ankle|knee|lower leg|calf)"
    act = (r"(fixation|repair|osteotomy|arthroplasty|replacement|reduction|fasciotomy|ORIF|"
           r"nailing|amputation|arthrodesis|reconstruction)")
    p.text("leg-surgery", [rf"\b{site}\b.*\b({act[1:-1]}|surgery)\b", rf"\b{act}\b.*\b{site}\b"],
           "clinical.md")
    leg_site = r"(leg|ankle|tibia|tibial|fibula|below[- ]knee|lower (limb|extremity)|foot|calf)"
    cast = r"(cast|casting|splint|splinting|plaster|immobili[sz]\w*)"
    p.text("leg-cast", [rf"\b{cast}\b.*\b{leg_site}\b", rf"\b{leg_site}\b.*\b{cast}\b"],
           "clinical.md")
    p.text("limb-immobilisation", [r"\bcast(s|ing)?\b", r"\bimmobili[sz]", r"\bsplint"],
           "clinical.md")
    return p.finish()
