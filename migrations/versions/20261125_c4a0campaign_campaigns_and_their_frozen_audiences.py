"""campaigns and their frozen audiences

Revision ID: c4a0campaign
Revises: c3a0rewards0
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4a0campaign'
down_revision = 'c3a0rewards0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('message_fa', sa.Text(), nullable=True),
    sa.Column('message_en', sa.Text(), nullable=True),
    sa.Column('bonus_points', sa.BigInteger(), nullable=True),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('offer_cost_points', sa.BigInteger(), nullable=True),
    sa.Column('earn_rule_id', sa.Integer(), nullable=True),
    sa.Column('control_percent', sa.Integer(), nullable=False),
    sa.Column('budget_points', sa.BigInteger(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('members_total', sa.Integer(), nullable=False),
    sa.Column('members_done', sa.Integer(), nullable=False),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('budget_points IS NULL OR points_awarded <= budget_points', name=op.f('ck_campaign_within_budget')),
    sa.CheckConstraint('control_percent >= 0 AND control_percent <= 50', name=op.f('ck_campaign_control_in_range')),
    sa.ForeignKeyConstraint(['earn_rule_id'], ['earn_rule.id'], name=op.f('fk_campaign_earn_rule_id_earn_rule')),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_campaign_reward_id_reward')),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_campaign_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_status_starts', ['status', 'starts_at'], unique=False)

    op.create_table('campaign_member',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('in_control', sa.Boolean(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_member_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_campaign_member_member_id_member')),
    sa.PrimaryKeyConstraint('campaign_id', 'member_id', name=op.f('pk_campaign_member'))
    )
    with op.batch_alter_table('campaign_member', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_member_member', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_table('campaign_member')
    op.drop_table('campaign')
