"""Findings: what a clinical rule concluded, before it is worded as a card.

A rule returns at most one :class:`Finding` per card topic. The finding carries data only
(named values, evidence rows, ids of suggestions to offer); the wording lives in
``cards/<topic>.yaml`` and ``catalog.py`` renders the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Indicator = Literal["info", "warning", "critical"]

# Rank used to order cards: critical first (CDS Hooks 2.0 leaves order to the service).
INDICATOR_RANK: Mapping[str, int] = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Evidence:
    """One chart item that supports a finding, shown as a row of the card's evidence table.

    ``reference`` is ``ResourceType/id`` of the source resource (clinical.md §5.7), never
    the patient id.
    """

    what: str
    value: str | None
    date: datetime | date | None
    reference: str | None


@dataclass(frozen=True)
class Replacement:
    """The medication an ``update`` suggestion puts on a draft order (order-sign)."""

    system: str
    code: str
    display: str


@dataclass(frozen=True)
class Finding:
    """A rule's conclusion for one card topic.

    ``indicator`` None means "the card's default indicator"; ``values`` fill the card's
    named placeholders; ``suggestions`` are ids of suggestions declared in the card YAML.
    """

    topic: str
    indicator: Indicator | None
    values: Mapping[str, str]
    evidence: tuple[Evidence, ...] = ()
    suggestions: tuple[str, ...] = field(default=())
    # order-sign: the draft order the card concerns ("MedicationRequest/<id>"), named in the
    # detail and in every action; ``replacement`` feeds the card's ``update`` action.
    draft_order: str | None = None
    replacement: Replacement | None = None
