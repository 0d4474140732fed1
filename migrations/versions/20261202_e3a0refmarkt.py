"""marketers (reserved)

Revision ID: e3a0refmarkt
Revises: e2a0refadmin
Create Date: 2026-12-02 14:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'e3a0refmarkt'
down_revision = 'e2a0refadmin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
