"""Feedback: durable record of issued cards and of what clinicians did with them."""

from cds_service.feedback.store import FeedbackStore, IssuedCard, StoredFeedback

__all__ = ["FeedbackStore", "IssuedCard", "StoredFeedback"]
