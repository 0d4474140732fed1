"""instant-win games, prizes and spins

Revision ID: d3a0instantw
Revises: d2a0contests
Create Date: 2026-12-02 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd3a0instantw'
down_revision = 'd2a0contests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instant_win_game',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('description_fa', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('style', sa.String(length=12), nullable=False),
    sa.Column('cost_points', sa.BigInteger(), nullable=False),
    sa.Column('daily_plays', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('min_tier_id', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('points_budget', sa.BigInteger(), nullable=True),
    sa.Column('points_given', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_instant_win_game_period_positive')),
    sa.CheckConstraint('cost_points >= 0', name=op.f('ck_instant_win_game_cost_not_negative')),
    sa.CheckConstraint('daily_plays > 0', name=op.f('ck_instant_win_game_daily_plays_positive')),
    sa.CheckConstraint('points_budget IS NULL OR points_given <= points_budget', name=op.f('ck_instant_win_game_budget_kept')),
    sa.ForeignKeyConstraint(['min_tier_id'], ['tier.id'], name=op.f('fk_instant_win_game_min_tier_id_tier'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_instant_win_game_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instant_win_game'))
    )
    op.create_table('instant_win_prize',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('game_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('odds_ppm', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('odds_ppm > 0 AND odds_ppm <= 1000000', name=op.f('ck_instant_win_prize_odds_in_range')),
    sa.CheckConstraint('remaining >= 0 AND remaining <= quantity', name=op.f('ck_instant_win_prize_remaining_in_range')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_instant_win_prize_value_not_negative')),
    sa.ForeignKeyConstraint(['game_id'], ['instant_win_game.id'], name=op.f('fk_instant_win_prize_game_id_instant_win_game')),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_instant_win_prize_reward_id_reward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instant_win_prize'))
    )
    op.create_index('ix_instant_win_prize_game', 'instant_win_prize', ['game_id', 'position'])

    op.create_table('instant_win_play',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('game_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=120), nullable=False),
    sa.Column('local_day', sa.String(length=10), nullable=False),
    sa.Column('roll', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('prize_id', sa.Integer(), nullable=True),
    sa.Column('points_spent', sa.BigInteger(), nullable=False),
    sa.Column('coupon_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_instant_win_play_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['game_id'], ['instant_win_game.id'], name=op.f('fk_instant_win_play_game_id_instant_win_game')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_instant_win_play_member_id_member')),
    sa.ForeignKeyConstraint(['prize_id'], ['instant_win_prize.id'], name=op.f('fk_instant_win_play_prize_id_instant_win_prize')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instant_win_play')),
    sa.UniqueConstraint('request_key', name=op.f('uq_instant_win_play_request_key'))
    )
    op.create_index('ix_instant_win_play_game', 'instant_win_play', ['game_id', 'outcome'])
    op.create_index('ix_instant_win_play_member_day', 'instant_win_play', ['member_id', 'game_id', 'local_day'])


def downgrade() -> None:
    op.drop_index('ix_instant_win_play_member_day', table_name='instant_win_play')
    op.drop_index('ix_instant_win_play_game', table_name='instant_win_play')

    op.drop_table('instant_win_play')
    op.drop_index('ix_instant_win_prize_game', table_name='instant_win_prize')

    op.drop_table('instant_win_prize')
    op.drop_table('instant_win_game')
