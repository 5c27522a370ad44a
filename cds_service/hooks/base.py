"""What a CDS service is: its discovery entry and the context model of its hook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]
    context_model: type[BaseModel]
    usage_requirements: str | None = None
    extension: Mapping[str, Any] = field(default_factory=dict)
    # order-sign: context.draftOrders are facts (drafts) and the order-sign rules run
    draft_orders: bool = False

    def discovery_entry(self) -> dict[str, Any]:
        """The service's entry in ``GET /cds-services`` (no empty optional fields)."""
        entry: dict[str, Any] = {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
        }
        if self.prefetch:
            entry["prefetch"] = dict(self.prefetch)
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        if self.extension:
            entry["extension"] = dict(self.extension)
        return entry


class Registry:
    """Services by id, and by hook within an id (the spec lets one id serve several hooks)."""

    def __init__(self, definitions: list[ServiceDefinition]) -> None:
        self._by_id: dict[str, dict[str, ServiceDefinition]] = {}
        for definition in definitions:
            hooks = self._by_id.setdefault(definition.id, {})
            if definition.hook in hooks:
                raise ValueError(f"duplicate service {definition.id} for hook {definition.hook}")
            hooks[definition.hook] = definition
        self.definitions = tuple(definitions)

    def hooks_for(self, service_id: str) -> Mapping[str, ServiceDefinition] | None:
        return self._by_id.get(service_id)
