"""instant-win games, prizes and spins

Revision ID: d3a0instantw
Revises: d2a0contests
Create Date: 2026-12-02 11:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'd3a0instantw'
down_revision = 'd2a0contests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
