"""Regenerate (or, with ``--check``, verify) ``cards/README.md`` from ``cards/*.yaml``.

Usage: ``python tools/gen_catalogue.py [--check]`` (same as ``python -m cds_service.catalog``).
"""

from __future__ import annotations

from cds_service.catalog import main

if __name__ == "__main__":
    raise SystemExit(main())
