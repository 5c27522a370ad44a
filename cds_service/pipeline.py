"""The clinical pipeline shared by the HTTP service and the offline ``evaluate`` command.

PatientRecord (raw JSON) → PatientFacts (extract) → Findings (rules) → Cards (catalog).
Built once at start-up: value sets and the card catalogue load here and fail fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from functools import partial
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .clinical.engine import TOPICS, evaluate
from .clinical.orders.engine import ORDER_TOPICS, evaluate_orders
from .clinical.extract import VerdictCache, extract_facts, preload_models
from .config import Settings
from .record import PatientRecord
from .state.card_ids import CardAttribution, new_card_uuid
from .terminology.valuesets import Terminology


def _packaged_cards_dir() -> Path:
    """The catalogue shipped in the package (``cards/`` in the repository, mapped to
    ``cds_service.cards``): found the same way from a checkout, an editable or a wheel install."""
    folder = resources.files("cds_service.cards")
    return folder if isinstance(folder, Path) else Path(str(folder))


DEFAULT_CARDS_DIR = _packaged_cards_dir()


@dataclass(frozen=True, slots=True)
class IssuedCardInfo:
    uuid: str
    topic: str
    version: str


class Pipeline:
    def __init__(self, settings: Settings, terminology: Terminology, catalog: Catalog) -> None:
        self.settings = settings
        self.terminology = terminology
        self.catalog = catalog
        self.verdicts = VerdictCache(settings.validation_cache_size)
        # Card uuids name their topic and version, so feedback is attributed even when
        # the issued-card record was lost (a worker killed before writing it).
        self.card_ids = CardAttribution(
            (topic, catalog.card_meta(topic).version) for topic in catalog.topics
        )

    @classmethod
    def load(cls, settings: Settings, cards_dir: Path | None = None) -> Pipeline:
        catalog = Catalog.load(cards_dir or settings.cards_dir or DEFAULT_CARDS_DIR)
        catalog.require((*TOPICS, *ORDER_TOPICS))  # every rule's topic has an active card
        preload_models()
        return cls(settings, Terminology.load(), catalog)

    def now(self) -> datetime:
        return self.settings.evaluation_time or datetime.now(UTC)

    def cards(
        self, record: PatientRecord, now: datetime | None = None, *, orders: bool = False
    ) -> tuple[list[dict[str, Any]], list[IssuedCardInfo]]:
        """Cards for one patient, and what was issued (for feedback attribution).

        ``orders``: an order-sign call; ``record.drafts`` are the orders being signed and the
        order-sign rules run instead of the chart-review ones."""
        at = now or self.now()
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        facts = extract_facts(record, self.terminology, at, self.verdicts)
        if orders:
            findings = evaluate_orders(facts, self.settings.clinical)
        else:
            findings = evaluate(facts, self.settings.clinical)
        drafts = {f"{r.get('resourceType')}/{r.get('id')}": r for r in record.drafts}
        cards: list[dict[str, Any]] = []
        issued: list[IssuedCardInfo] = []
        for finding in findings:
            meta = self.catalog.card_meta(finding.topic)
            # FHIR R4 ServiceRequest.subject is required on suggested orders.
            card = self.catalog.render(
                finding,
                subject=f"Patient/{record.patient_id}",
                new_uuid=partial(new_card_uuid, finding.topic, meta.version),
                drafts=drafts,
            )
            cards.append(card)
            issued.append(IssuedCardInfo(uuid=card["uuid"], topic=finding.topic, version=meta.version))
        return cards, issued
