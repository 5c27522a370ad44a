"""Clinical rules: pure functions from :class:`PatientFacts` and thresholds to findings.

One module per card topic (its docstring cites the guideline); shared helpers live in
``labs`` (thresholds with reference-range precedence), ``chart`` (conditions, medications,
evidence rows) and ``symptoms`` (the symptom gate).
"""
