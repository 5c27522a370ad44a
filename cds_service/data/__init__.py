"""Generated terminology data (built by tools/build_terminology.py)."""
