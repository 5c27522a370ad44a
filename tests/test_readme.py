"""The README documents every clinical setting (a new threshold cannot go undocumented)."""

from cds_service.config import ClinicalSettings
from support import ROOT


def test_every_clinical_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in ClinicalSettings.model_fields if f"`{name}`" not in readme]
    assert not missing, f"document these settings in README.md: {missing}"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in readme
