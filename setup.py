"""Package layout that pyproject.toml cannot express on its own.

The card catalogue stays at the top level (``cards/``, edited by clinicians, documented in
the README) and ships inside the package as ``cds_service.cards``, so a wheel install finds
it with ``importlib.resources`` (issue 9). Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["cds_service", "cds_service.*"]), "cds_service.cards"],
    package_dir={"cds_service.cards": "cards"},
    package_data={
        "cds_service.data": ["*.json", "**/*.json"],
        "cds_service.cards": ["*.yaml", "README.md"],
        "cds_service.state.migrations": ["script.py.mako"],
    },
)
