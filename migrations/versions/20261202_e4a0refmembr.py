"""referral member pages (reserved)

Revision ID: e4a0refmembr
Revises: e3a0refmarkt
Create Date: 2026-12-02 14:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'e4a0refmembr'
down_revision = 'e3a0refmarkt'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
