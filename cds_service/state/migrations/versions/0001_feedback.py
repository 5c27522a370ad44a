"""Feedback and issued cards (the tables of releases before migrations existed).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cds_service.state.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_cards",
        sa.Column("card_uuid", sa.String(256), primary_key=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("topic", sa.String(256), nullable=False),
        sa.Column("card_version", sa.String(64), nullable=False),
        sa.Column("hook_instance", sa.String(256), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("card_uuid", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.Text, nullable=True),
        sa.Column("override_code", sa.String(256), nullable=True),
        sa.Column("override_system", sa.String(1024), nullable=True),
        sa.Column("override_display", sa.String(1024), nullable=True),
        sa.Column("user_comment", sa.Text, nullable=True),
        sa.Column("outcome_timestamp", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("topic", sa.String(256), nullable=True),
        sa.Column("card_version", sa.String(64), nullable=True),
        sa.UniqueConstraint(
            "service_id", "card_uuid", "outcome", "outcome_timestamp", name="uq_feedback_report"
        ),
        sa.CheckConstraint("outcome IN ('accepted', 'overridden')", name="ck_feedback_outcome"),
    )
    op.create_index("ix_feedback_topic_outcome", "feedback", ["topic", "outcome"])


def downgrade() -> None:
    op.drop_index("ix_feedback_topic_outcome", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("issued_cards")
