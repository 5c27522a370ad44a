"""The card catalogue (one YAML per topic), shipped as package data ``cds_service.cards``."""
