"""Terminology: value-set look-ups (``valuesets``) and unit normalisation (``units``)."""

from cds_service.terminology.valuesets import MedicationMatch, Terminology, system_key

__all__ = ["MedicationMatch", "Terminology", "system_key"]
