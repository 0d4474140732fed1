"""message templates: staff's wording of a message kind per locale

Revision ID: m5a0templ
Revises: m8a0survey
Create Date: 2026-12-03 16:45:00
"""
import sqlalchemy as sa
from alembic import op

UTC = sa.DateTime(timezone=True)

revision = 'm5a0templ'
down_revision = 'm8a0survey'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'message_template',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('locale', sa.String(5), nullable=False),
        sa.Column('subject', sa.String(200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.String(120), nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.UniqueConstraint('kind', 'locale', name='uq_message_template_kind_locale'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_template')),
    )


def downgrade() -> None:
    op.drop_table('message_template')
