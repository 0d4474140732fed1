"""raffles, entries, tickets and winners

Revision ID: d1a0raffles0
Revises: c5a0challeng
Create Date: 2026-12-02 11:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'd1a0raffles0'
down_revision = 'c5a0challeng'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
