"""Settings: the one place where configuration enters the service.

Every value can be set by an environment variable with the prefix ``CALF_CDS_``
(nested clinical thresholds use ``CALF_CDS_CLINICAL__<NAME>``). Tests and the
``evaluate`` command build ``Settings(...)`` directly; nothing reads ``os.environ``
at import time. Building settings checks every value (``settings_checks``): a setting
that cannot work raises with one line naming it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClinicalSettings(BaseModel):
    """Thresholds and windows used by the clinical rules.

    Each default cites where it comes from (the reference notes ``clinical.md``,
    sections in brackets). Values marked *configurable because disputed* are shown as
    such on the cards.
    """

    # Recency windows (days) [clinical.md §0.6, issue #3]
    symptom_window_days: int = 30
    ck_window_days: int = 30
    rhabdo_ck_window_days: int = 14
    electrolyte_window_days: int = 90
    vitamin_d_window_days: int = 365
    red_flag_window_days: int = 7
    # Wells: "major surgery within 4 weeks" (1997); 12 weeks shown as context (2003) [§3.1]
    surgery_window_days: int = 28
    surgery_context_window_days: int = 84
    # Postpartum: 6 weeks is conventional, NOT sourced; needs clinical sign-off [§3, §4.4]
    postpartum_window_days: int = 42
    # Context labs shown on the statin card (TSH, eGFR, creatinine) look-back: assumption
    context_lab_window_days: int = 365

    # Potassium (mmol/L): hypokalemia < 3.5; severe < 2.5 [§2.1]
    potassium_low_mmol_l: float = 3.5
    potassium_critical_mmol_l: float = 2.5
    # Magnesium (mmol/L): 0.70 (ESPEN/ASPEN summaries); disputed 0.60-0.75 [§2.2]
    magnesium_low_mmol_l: float = 0.70
    # 25-OH vitamin D deficiency < 20 ng/mL (Endocrine Society 2011) [§2.3]
    vitamin_d_deficient_ng_ml: float = 20.0
    # CK: multiples of ULN (EAS 2015 Table 1; simvastatin label) [§2.4]
    ck_rhabdo_multiple: float = 10.0
    ck_default_uln_u_l: float = 308.0  # Mayo adult male ULN, used only without referenceRange
    # D-dimer cut-off 500 ng/mL FEU; age-adjusted age x 10 ug/L over 50 (ADJUST-PE) [§2.5]
    d_dimer_cutoff_ng_ml_feu: float = 500.0
    d_dimer_age_adjust_over: int = 50
    # ABI <= 0.90 abnormal (2016 AHA/ACC PAD) [§2]
    abi_pad_max: float = 0.90
    # Compression stockings/bandaging need an ABPI of at least 0.8 (NICE CKS "Leg ulcer -
    # venous", SIGN 120); below it the order-sign compression card fires (issue 10)
    abi_compression_min: float = 0.8
    # Obesity BMI >= 30 [§3]; low BMI < 18.5 is an assumption (no source gives a number) [§1.6]
    bmi_obesity_min: float = 30.0
    # Obesity counts as a DVT risk factor from a BMI at most this old, or from an active
    # obesity condition the latest BMI does not contradict (issue 7: current evidence)
    obesity_bmi_window_days: int = 730
    bmi_low_max: float = 18.5
    # Age thresholds: statin myopathy > 80 [§1.6]; DVT "advanced age" Padua >= 70 [§4.3]
    statin_risk_age_over: int = 80
    dvt_risk_age_min: int = 70
    # TSH upper limit used only when the result has no referenceRange (mIU/L): an
    # assumption (a common adult upper limit); clinical.md §2.6 says use the lab's range
    tsh_default_uln: float = 4.5
    # eGFR below which CKD is flagged (mL/min/1.73m2) [§2.6]
    egfr_ckd_max: float = 60.0
    # CK tier "significant elevation, review statin": EAS 2015 Table 1 uses 4x ULN; the
    # often-quoted 3x tier is UNVERIFIED as a guideline threshold [§2.4]; shown on the card
    ck_moderate_multiple: float = 4.0
    # Age-adjusted D-dimer: age x 10 ug/L FEU (= ng/mL FEU) over 50 (ADJUST-PE, PE only) [§2.5]
    d_dimer_age_factor_ng_ml: float = 10.0
    # A D-dimer counts as "recent" for the DVT cards within this many days: assumption,
    # aligned with the red-flag window (no source gives a number)
    d_dimer_window_days: int = 7
    # Wells item 2 "recent plaster immobilisation": "recent" is not quantified; assumption,
    # aligned with the 4-week surgery window [§3.1, §4.1]
    limb_immobilisation_window_days: int = 28

    # --- issue 7 safety rules ---------------------------------------------------------
    # Simvastatin 80 mg: label restricts it to patients on 80 mg for 12 months or more
    # without muscle toxicity (ZOCOR label §2.2; FDA Drug Safety Communication 2011)
    simvastatin_80_restricted_days: int = 365
    # Magnesium "critical" (electrolyte cards): < 0.5 mmol/L, the project's clinical brief
    # (issue 7); K critical stays potassium_critical_mmol_l
    magnesium_critical_mmol_l: float = 0.5
    # Compartment syndrome: fracture/crush/leg surgery/cast within 7 days (issue 7)
    compartment_window_days: int = 7
    # Coded rhabdomyolysis or crush syndrome counts for 14 days, as the CK does (issue 7)
    coded_rhabdo_window_days: int = 14
    # Fluoroquinolone current or ended within 30 days (issue 7); the boxed warning's added
    # risk "over 60 years of age" (FDA 2008)
    fluoroquinolone_window_days: int = 30
    fluoroquinolone_age_over: int = 60


class Settings(BaseSettings):
    """Service configuration (environment prefix ``CALF_CDS_``)."""

    model_config = SettingsConfigDict(
        env_prefix="CALF_CDS_", env_nested_delimiter="__", extra="ignore"
    )

    profile: Literal["dev", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = 8080
    # Public base URL the EHR uses to reach this service; JWT ``aud`` is compared to it.
    public_base_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    # ``json``: one JSON object per line (time, level, logger, message, request_id);
    # ``text``: one human-readable line per event, for a terminal.
    log_format: Literal["json", "text"] = "json"

    # Card catalogue directory (YAML); None: the catalogue shipped in the package
    # (``cards/`` in the repository, installed as ``cds_service.cards``)
    cards_dir: Path | None = None

    # Shared state (feedback, issued cards; the replay and JWK Set caches unless Redis is
    # set): SQLite file by default, or ``postgresql+psycopg://...`` (extra ``postgres``).
    database_url: str = "sqlite:///./var/calf_cds.sqlite3"
    # ``redis://...`` (extra ``redis``): the replay and JWK Set caches live there instead.
    redis_url: str | None = None

    # Request limits
    max_body_bytes: int = 8 * 1024 * 1024

    # FHIR fallback fetch. The allowlist has no default outside the dev profile (None:
    # ["localhost", "127.0.0.1"] in dev, nothing elsewhere).
    fhir_allowed_hosts: list[str] | None = None
    fhir_require_https: bool | None = None  # None: required outside the dev profile
    # One request (connect, headers and body together) and one hook call (every search,
    # page, Medication read and JWK Set fetch together).
    fhir_request_timeout_s: float = 5.0
    fhir_overall_deadline_s: float = 8.0
    fhir_max_pages: int = 10
    fhir_max_resources: int = 20000
    # Per response, counted on the raw bytes and again after inflating gzip/deflate.
    fhir_max_response_bytes: int = 8 * 1024 * 1024
    # All responses of one hook call together (memory per call stays bounded).
    fhir_max_call_bytes: int = 8 * 1024 * 1024
    # 429/503 retried this many times when Retry-After fits in the call's deadline.
    fhir_max_retries: int = 2
    # Redirects followed on the same scheme, host and port only.
    fhir_max_redirects: int = 3

    # Outbound address policy, applied after DNS to every connection (FHIR and jku).
    # Loopback and private ranges (None: allowed in the dev profile only); link-local and
    # cloud metadata addresses are refused unless a network below names them.
    outbound_allow_private: bool | None = None
    # CIDRs that may always be connected to, e.g. ["10.20.0.0/16"] for an intranet EHR.
    outbound_allowed_networks: list[str] = Field(default_factory=list)

    # HTTP server (``calf-cds serve``): slow or idle clients and floods.
    # Until the request line and headers are complete, and until the body is complete.
    server_header_timeout_s: float = 10.0
    server_body_timeout_s: float = 30.0
    # Largest request line plus headers (h11's max incomplete event size); over it: 400.
    server_max_header_bytes: int = 32 * 1024
    # Idle keep-alive connections are closed after this many seconds.
    server_keepalive_timeout_s: int = 5
    # Requests handled at once; more are answered 503 with Retry-After.
    server_max_concurrent_requests: int = 64
    # Open connections; a connection beyond it is answered 503 and closed.
    server_max_connections: int = 1024
    server_retry_after_s: int = 1

    # Site-local Observation codes (``system|code``) added to the observations prefetch
    # template: e.g. an ankle-brachial index or D-dimer code, which have no verified LOINC
    # (clinical.md §2.5, §2.6) and are otherwise recognised by their text only.
    extra_observation_codes: list[str] = Field(default_factory=list)

    # JWT verification of the EHR (None: enabled outside the dev profile)
    auth_enabled: bool | None = None
    auth_trusted_issuers: list[str] = Field(default_factory=list)
    # issuer -> path of a JWK Set file, or an inline JWK Set JSON string
    auth_issuer_jwks: dict[str, str] = Field(default_factory=dict)
    auth_jku_allowlist: list[str] = Field(default_factory=list)
    # issuer -> jku URLs bound to it (a bound jku is refused for every other issuer)
    auth_issuer_jku: dict[str, list[str]] = Field(default_factory=dict)
    auth_jwks_cache_s: int = 3600
    auth_clock_skew_s: int = 60
    auth_max_token_lifetime_s: int = 3600

    # CORS
    cors_allow_origins: list[str] = Field(default_factory=lambda: ["*"])

    # Validation verdicts remembered by the exact JSON of a resource (0 turns it off):
    # the same chart re-sent on every open is validated once. Bounded memory.
    validation_cache_size: int = 4096

    # Clinical evaluation; ``evaluation_time`` replays historical data (None: now)
    evaluation_time: datetime | None = None
    clinical: ClinicalSettings = Field(default_factory=ClinicalSettings)

    @model_validator(mode="after")
    def _refuse_what_cannot_work(self) -> Settings:
        # Every setting is checked here, once, so a service that would answer 401 to
        # everything (or crash on its first request) refuses to start instead.
        from .settings_checks import check_settings

        check_settings(self)
        return self

    @property
    def auth_is_enabled(self) -> bool:
        return self.auth_enabled if self.auth_enabled is not None else self.profile != "dev"

    @property
    def fhir_hosts(self) -> list[str]:
        if self.fhir_allowed_hosts is not None:
            return self.fhir_allowed_hosts
        return ["localhost", "127.0.0.1"] if self.profile == "dev" else []

    @property
    def outbound_private_allowed(self) -> bool:
        if self.outbound_allow_private is not None:
            return self.outbound_allow_private
        return self.profile == "dev"

    @property
    def fhir_https_required(self) -> bool:
        if self.fhir_require_https is not None:
            return self.fhir_require_https
        return self.profile != "dev"
