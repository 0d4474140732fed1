"""raffles, entries, tickets and winners

Revision ID: d1a0raffles0
Revises: c5a0challeng
Create Date: 2026-12-02 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd1a0raffles0'
down_revision = 'c5a0challeng'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('raffle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('description_fa', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('ticket_price', sa.BigInteger(), nullable=False),
    sa.Column('max_tickets_per_member', sa.Integer(), nullable=False),
    sa.Column('min_tier_id', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('draw_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alternates', sa.Integer(), nullable=False),
    sa.Column('public_value_source', sa.String(length=300), nullable=True),
    sa.Column('public_value', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('seed', sa.LargeBinary(), nullable=True),
    sa.Column('commitment', sa.String(length=64), nullable=True),
    sa.Column('entries_file', sa.LargeBinary(), nullable=True),
    sa.Column('entries_digest', sa.String(length=64), nullable=True),
    sa.Column('entries_count', sa.Integer(), nullable=True),
    sa.Column('tickets_total', sa.BigInteger(), nullable=True),
    sa.Column('draw_key', sa.String(length=64), nullable=True),
    sa.Column('draw_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('alternates >= 0', name=op.f('ck_raffle_alternates_not_negative')),
    sa.CheckConstraint('draw_at >= closes_at', name=op.f('ck_raffle_draw_after_close')),
    sa.CheckConstraint('max_tickets_per_member > 0', name=op.f('ck_raffle_cap_positive')),
    sa.CheckConstraint('ticket_price >= 0', name=op.f('ck_raffle_price_not_negative')),
    sa.ForeignKeyConstraint(['min_tier_id'], ['tier.id'], name=op.f('fk_raffle_min_tier_id_tier'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_raffle_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raffle'))
    )
    op.create_table('raffle_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('raffle_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('tickets', sa.BigInteger(), nullable=False),
    sa.Column('bought', sa.BigInteger(), nullable=False),
    sa.Column('from_coupons', sa.BigInteger(), nullable=False),
    sa.Column('from_perks', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('tickets = bought + from_coupons + from_perks', name=op.f('ck_raffle_entry_tickets_add_up')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_raffle_entry_member_id_member')),
    sa.ForeignKeyConstraint(['raffle_id'], ['raffle.id'], name=op.f('fk_raffle_entry_raffle_id_raffle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raffle_entry')),
    sa.UniqueConstraint('raffle_id', 'code', name=op.f('uq_raffle_entry_raffle_id_code')),
    sa.UniqueConstraint('raffle_id', 'member_id', name=op.f('uq_raffle_entry_raffle_id_member_id'))
    )
    with op.batch_alter_table('raffle_entry', schema=None) as batch_op:
        batch_op.create_index('ix_raffle_entry_member', ['member_id'], unique=False)

    op.create_table('raffle_prize',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('raffle_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_raffle_prize_amount_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_raffle_prize_quantity_positive')),
    sa.ForeignKeyConstraint(['raffle_id'], ['raffle.id'], name=op.f('fk_raffle_prize_raffle_id_raffle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_raffle_prize_reward_id_reward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raffle_prize')),
    sa.UniqueConstraint('raffle_id', 'position', name=op.f('uq_raffle_prize_raffle_id_position'))
    )
    op.create_table('raffle_tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('raffle_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points_spent', sa.BigInteger(), nullable=False),
    sa.Column('coupon_id', sa.BigInteger(), nullable=True),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_raffle_tickets_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['entry_id'], ['raffle_entry.id'], name=op.f('fk_raffle_tickets_entry_id_raffle_entry')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_raffle_tickets_member_id_member')),
    sa.ForeignKeyConstraint(['raffle_id'], ['raffle.id'], name=op.f('fk_raffle_tickets_raffle_id_raffle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raffle_tickets')),
    sa.UniqueConstraint('key', name=op.f('uq_raffle_tickets_key'))
    )
    with op.batch_alter_table('raffle_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_raffle_tickets_raffle', ['raffle_id', 'points_spent'], unique=False)

    op.create_table('raffle_winner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('raffle_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('entry_code', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=True),
    sa.Column('forfeited', sa.Boolean(), nullable=False),
    sa.Column('coupon_id', sa.BigInteger(), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_raffle_winner_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['entry_id'], ['raffle_entry.id'], name=op.f('fk_raffle_winner_entry_id_raffle_entry')),
    sa.ForeignKeyConstraint(['raffle_id'], ['raffle.id'], name=op.f('fk_raffle_winner_raffle_id_raffle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raffle_winner')),
    sa.UniqueConstraint('raffle_id', 'rank', name=op.f('uq_raffle_winner_raffle_id_rank'))
    )



def downgrade() -> None:

    op.drop_table('raffle_winner')
    with op.batch_alter_table('raffle_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_raffle_tickets_raffle')

    op.drop_table('raffle_tickets')
    op.drop_table('raffle_prize')
    with op.batch_alter_table('raffle_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_raffle_entry_member')

    op.drop_table('raffle_entry')
    op.drop_table('raffle')

