"""Shared state: one module per concept (``replay``, ``jwks``, ``issued``, ``feedback``,
``card_ids``), one per backend (``sql``, ``redis_backend``), the tables (``schema``), the
migrations (``migrate``) and the layer that composes them (``layer``)."""

from cds_service.state.feedback import FeedbackStore, StoredFeedback
from cds_service.state.issued import IssuedCard
from cds_service.state.layer import State, StateError

__all__ = ["FeedbackStore", "IssuedCard", "State", "StateError", "StoredFeedback"]
