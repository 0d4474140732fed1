"""rewards catalog, coupons, partner voucher codes

Revision ID: c3a0rewards0
Revises: c2a0rules000
Create Date: 2026-11-25 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3a0rewards0'
down_revision = 'c2a0rules000'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('description_fa', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('cost_points', sa.BigInteger(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('product_sku', sa.String(length=64), nullable=True),
    sa.Column('stock', sa.BigInteger(), nullable=True),
    sa.Column('issued_count', sa.BigInteger(), nullable=False),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('min_tier_id', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('coupon_valid_days', sa.Integer(), nullable=True),
    sa.Column('image', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cost_points >= 0', name=op.f('ck_reward_cost_not_negative')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_reward_stock_not_negative')),
    sa.ForeignKeyConstraint(['min_tier_id'], ['tier.id'], name=op.f('fk_reward_min_tier_id_tier'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_reward_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward'))
    )

    op.create_table('coupon',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('points_spent', sa.BigInteger(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('partner_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('request_key', sa.String(length=120), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_ref', sa.String(length=100), nullable=True),
    sa.Column('used_api_key_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('issued', 'used', 'cancelled', 'expired')", name=op.f('ck_coupon_status_known')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_coupon_member_id_member')),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_coupon_reward_id_reward')),
    sa.ForeignKeyConstraint(['used_api_key_id'], ['api_key.id'], name=op.f('fk_coupon_used_api_key_id_api_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon')),
    sa.UniqueConstraint('code', name=op.f('uq_coupon_code')),
    sa.UniqueConstraint('request_key', name=op.f('uq_coupon_request_key'))
    )
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.create_index('ix_coupon_member_issued', ['member_id', 'issued_at'], unique=False)
        batch_op.create_index('ix_coupon_reward_member', ['reward_id', 'member_id'], unique=False)

    op.create_table('voucher_code',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('coupon_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_voucher_code_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_voucher_code_reward_id_reward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_code')),
    sa.UniqueConstraint('coupon_id', name=op.f('uq_voucher_code_coupon_id')),
    sa.UniqueConstraint('reward_id', 'code', name=op.f('uq_voucher_code_reward_id_code'))
    )
    with op.batch_alter_table('voucher_code', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_code_free', ['reward_id', 'coupon_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('voucher_code')
    op.drop_table('coupon')
    op.drop_table('reward')
