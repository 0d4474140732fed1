"""challenges and entries

Revision ID: c5a0challeng
Revises: c4a0campaign
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c5a0challeng'
down_revision = 'c4a0campaign'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('description_fa', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('goal', sa.BigInteger(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=True),
    sa.Column('min_tier_id', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('perk_multiplier_bp', sa.Integer(), nullable=True),
    sa.Column('reward_points', sa.BigInteger(), nullable=True),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_challenge_period_positive')),
    sa.CheckConstraint('goal > 0', name=op.f('ck_challenge_goal_positive')),
    sa.ForeignKeyConstraint(['min_tier_id'], ['tier.id'], name=op.f('fk_challenge_min_tier_id_tier'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_challenge_reward_id_reward')),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_challenge_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge'))
    )

    op.create_table('challenge_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('progress', sa.BigInteger(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('coupon_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_challenge_entry_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_challenge_entry_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_challenge_entry_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_entry')),
    sa.UniqueConstraint('challenge_id', 'member_id', name=op.f('uq_challenge_entry_challenge_id_member_id'))
    )
    with op.batch_alter_table('challenge_entry', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_entry_member', ['member_id', 'completed_at'], unique=False)


def downgrade() -> None:
    op.drop_table('challenge_entry')
    op.drop_table('challenge')
