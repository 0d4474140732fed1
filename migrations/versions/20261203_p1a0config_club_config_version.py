"""club_config: the version of the club's configuration (per-process caches)

Revision ID: p1a0config
Revises: m5a0templ
Create Date: 2026-12-03 19:45:00
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = 'p1a0config'
down_revision = 'm5a0templ'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'club_config',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_club_config')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table('club_config')
