"""Feedback lives in the state layer now (``cds_service.state``); kept for old imports."""

from cds_service.state import FeedbackStore, IssuedCard, StoredFeedback

__all__ = ["FeedbackStore", "IssuedCard", "StoredFeedback"]
