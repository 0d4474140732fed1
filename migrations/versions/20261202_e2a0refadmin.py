"""referral admin, reports, leaderboard (reserved)

Revision ID: e2a0refadmin
Revises: e1a0referral
Create Date: 2026-12-02 14:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'e2a0refadmin'
down_revision = 'e1a0referral'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
