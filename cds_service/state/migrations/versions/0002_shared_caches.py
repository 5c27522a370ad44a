"""Shared caches for N workers and replicas: the JWT replay cache and the JWK Set cache.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_jti",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_replay_jti_expires_at", "replay_jti", ["expires_at"])
    op.create_table(
        "jwks_cache",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("fetched_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jwks_cache")
    op.drop_index("ix_replay_jti_expires_at", table_name="replay_jti")
    op.drop_table("replay_jti")
