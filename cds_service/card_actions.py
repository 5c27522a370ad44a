"""Suggestion actions of rendered cards (CDS Hooks 2.0 "Action").

- ``create`` orders a coded test as a FHIR R4 ``ServiceRequest`` (``status: draft``,
  ``intent: proposal``, the patient as ``subject`` when the caller gives it);
- ``delete`` removes the draft order a card concerns: ``resourceId`` is its relative
  reference, ``MedicationRequest/<id>`` (2.0.1 Action table: a *string*; the deprecated
  string ``resource`` is not sent);
- ``update`` sends the draft order in its entirety with the finding's replacement
  medication (``medicationCodeableConcept``; a ``medicationReference`` is dropped).

Action descriptions and suggestion labels may name ``{draft_order}`` and ``{replacement}``;
order-sign cards name the draft in every action. A finding that does not fit (no draft,
an unknown draft, no replacement for an update) raises ``RenderError``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cds_service.clinical.findings import Finding

if TYPE_CHECKING:
    from cds_service.catalog import ActionDef, CardDefinition

_TOKEN = re.compile(r"\{(draft_order|replacement)\}")


def _render_error(message: str) -> Exception:
    from cds_service.catalog import RenderError

    return RenderError(message)


def _fill(card: CardDefinition, text: str, finding: Finding) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "draft_order":
            if finding.draft_order is None:
                raise _render_error(f"card {card.id!r}: an action names the draft order but the finding has none")
            return finding.draft_order
        if finding.replacement is None:
            raise _render_error(f"card {card.id!r}: an action names a replacement but the finding has none")
        return finding.replacement.display

    return _TOKEN.sub(value, text)


def _service_request(action: ActionDef, subject: str | None) -> dict[str, Any]:
    assert action.order is not None  # validated: a create action has an order
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {
            "coding": [
                {"system": action.order.system, "code": action.order.code, "display": action.order.display}
            ],
            "text": action.order.display,
        },
    }
    if subject:
        resource["subject"] = {"reference": subject}
    return resource


def _updated_draft(card: CardDefinition, finding: Finding,
                   drafts: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    ref = finding.draft_order
    draft = (drafts or {}).get(ref or "")
    if draft is None or finding.replacement is None:
        raise _render_error(f"card {card.id!r}: update needs the draft order {ref!r} and a replacement")
    resource = copy.deepcopy(dict(draft))
    resource.pop("medicationReference", None)
    r = finding.replacement
    resource["medicationCodeableConcept"] = {
        "coding": [{"system": r.system, "code": r.code, "display": r.display}],
        "text": r.display,
    }
    return resource


def _action(card: CardDefinition, action: ActionDef, finding: Finding, subject: str | None,
            drafts: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": action.type, "description": _fill(card, action.description, finding)}
    if action.type == "create":
        out["resource"] = _service_request(action, subject)
    elif action.type == "delete":
        if finding.draft_order is None:
            raise _render_error(f"card {card.id!r}: delete needs the finding's draft order")
        out["resourceId"] = finding.draft_order
    else:
        out["resource"] = _updated_draft(card, finding, drafts)
    return out


def render_suggestions(card: CardDefinition, finding: Finding, subject: str | None,
                       drafts: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The card's suggestions the finding selected, in declaration order (stable cards)."""
    wanted = finding.suggestions
    declared = {s.id for s in card.suggestions}
    unknown = [w for w in wanted if w not in declared]
    if unknown:
        raise _render_error(f"card {card.id!r}: undeclared suggestion(s) {unknown}")
    out = []
    for s in card.suggestions:
        if s.id not in wanted:
            continue
        item: dict[str, Any] = {"label": _fill(card, s.label, finding), "uuid": s.uuid}
        if s.isRecommended is not None:
            item["isRecommended"] = s.isRecommended
        item["actions"] = [_action(card, a, finding, subject, drafts) for a in s.actions]
        out.append(item)
    return out
