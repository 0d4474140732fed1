"""broadcasts and their frozen audiences (messaged or held out)

Revision ID: m6a0bcast
Revises: m4a0push
Create Date: 2026-12-03 16:45:00
"""
from alembic import op
import sqlalchemy as sa

UTC = sa.DateTime(timezone=True)

revision = 'm6a0bcast'
down_revision = 'm4a0push'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'broadcast',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('segment_id', sa.Integer(), sa.ForeignKey('segment.id', name=op.f('fk_broadcast_segment_id_segment'))),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('subject_fa', sa.String(200), nullable=False),
        sa.Column('subject_en', sa.String(200), nullable=False),
        sa.Column('body_fa', sa.Text(), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('holdout_percent', sa.Integer(), nullable=False),
        sa.Column('attribution_days', sa.Integer(), nullable=False),
        sa.Column('scheduled_at', UTC),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('created_by', sa.String(64), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('started_at', UTC),
        sa.Column('finished_at', UTC),
        sa.Column('targeted', sa.Integer(), nullable=False),
        sa.Column('held_out', sa.Integer(), nullable=False),
        sa.CheckConstraint('holdout_percent >= 0 AND holdout_percent <= 50', name=op.f('ck_broadcast_holdout_in_range')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast')),
    )
    op.create_index('ix_broadcast_status_scheduled', 'broadcast', ['status', 'scheduled_at'])
    op.create_table(
        'broadcast_member',
        sa.Column('broadcast_id', sa.Integer(), sa.ForeignKey('broadcast.id', name=op.f('fk_broadcast_member_broadcast_id_broadcast')), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('member.id', name=op.f('fk_broadcast_member_member_id_member')), nullable=False),
        sa.Column('held_out', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('broadcast_id', 'member_id', name=op.f('pk_broadcast_member')),
    )


def downgrade() -> None:
    op.drop_table('broadcast_member')
    op.drop_index('ix_broadcast_status_scheduled', table_name='broadcast')
    op.drop_table('broadcast')
