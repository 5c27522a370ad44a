"""calf-cds: a CDS Hooks 2.0 service for the hidden and dangerous causes of calf pain."""

__version__ = "0.1.0"
