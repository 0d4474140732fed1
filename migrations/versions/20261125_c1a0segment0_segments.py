"""segments

Revision ID: c1a0segment0
Revises: b59953d2dc09
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c1a0segment0'
down_revision = 'b59953d2dc09'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('name', name=op.f('uq_segment_name'))
    )


def downgrade() -> None:
    op.drop_table('segment')
