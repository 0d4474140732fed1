"""contests, questions, attempts and predictions

Revision ID: d2a0contests
Revises: d1a0raffles0
Create Date: 2026-12-02 11:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'd2a0contests'
down_revision = 'd1a0raffles0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
