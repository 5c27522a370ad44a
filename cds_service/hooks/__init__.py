"""CDS services: one module per service, and an explicit registry keyed by service id."""
