"""earn rules, rule awards, check-ins

Revision ID: c2a0rules000
Revises: c1a0segment0
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c2a0rules000'
down_revision = 'c1a0segment0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('earn_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('trigger', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('effect', sa.String(length=12), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('per_amount', sa.BigInteger(), nullable=True),
    sa.Column('percent_bp', sa.Integer(), nullable=True),
    sa.Column('use_tier_multiplier', sa.Boolean(), nullable=False),
    sa.Column('cap_points', sa.BigInteger(), nullable=True),
    sa.Column('cap_period', sa.String(length=8), nullable=True),
    sa.Column('budget_points', sa.BigInteger(), nullable=True),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('streak_bonuses', sa.JSON(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("effect IN ('fixed', 'per_amount', 'percent')", name=op.f('ck_earn_rule_effect_known')),
    sa.CheckConstraint("status IN ('draft', 'active', 'ended')", name=op.f('ck_earn_rule_status_known')),
    sa.CheckConstraint('budget_points IS NULL OR points_awarded <= budget_points', name=op.f('ck_earn_rule_within_budget')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_earn_rule_points_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earn_rule')),
    sa.UniqueConstraint('family_id', 'version', name=op.f('uq_earn_rule_family_id_version'))
    )
    with op.batch_alter_table('earn_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_earn_rule_family_id'), ['family_id'], unique=False)
        batch_op.create_index('ix_earn_rule_trigger_status', ['trigger', 'status'], unique=False)

    op.create_table('earn_rule_award',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=120), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tier_id', sa.Integer(), nullable=True),
    sa.Column('tier_multiplier_bp', sa.Integer(), nullable=False),
    sa.Column('perk_multiplier_bp', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_earn_rule_award_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_earn_rule_award_member_id_member')),
    sa.ForeignKeyConstraint(['rule_id'], ['earn_rule.id'], name=op.f('fk_earn_rule_award_rule_id_earn_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earn_rule_award')),
    sa.UniqueConstraint('family_id', 'event_key', name=op.f('uq_earn_rule_award_family_id_event_key'))
    )
    with op.batch_alter_table('earn_rule_award', schema=None) as batch_op:
        batch_op.create_index('ix_earn_rule_award_cap', ['family_id', 'member_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_earn_rule_award_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_earn_rule_award_entry_id'), ['entry_id'], unique=False)

    op.create_table('checkin',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('streak', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_checkin_member_id_member')),
    sa.PrimaryKeyConstraint('member_id', 'day', name=op.f('pk_checkin'))
    )


def downgrade() -> None:
    op.drop_table('checkin')
    op.drop_table('earn_rule_award')
    op.drop_table('earn_rule')
