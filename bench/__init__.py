"""calf-cds benchmark (``make bench`` → ``python -m bench``); not part of the test suite.

Measures, in one run so ratios hold on a noisy machine: in-process evaluation against a
naive validate-everything path, HTTP throughput and latency against a bare FastAPI floor,
the fallback fetch against one FHIR round trip, start-up time and worker memory. How to
read the table: ``docs/benchmark.md``. Profiles of the hot paths: ``python -m bench.profile``.
"""
