"""web push subscriptions: one row per browser a member turned notifications on in

Revision ID: m4a0push
Revises: m1a0outbox
Create Date: 2026-12-03 16:40:00
"""
from alembic import op
import sqlalchemy as sa

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)

revision = 'm4a0push'
down_revision = 'm1a0outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'push_subscription',
        sa.Column('id', BigIntPK, nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey(
            'member.id', name=op.f('fk_push_subscription_member_id_member'), ondelete='CASCADE'), nullable=False),
        sa.Column('endpoint', sa.String(1024), nullable=False),
        sa.Column('p256dh', sa.String(128), nullable=False),
        sa.Column('auth', sa.String(64), nullable=False),
        sa.Column('user_agent', sa.String(255)),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('last_success_at', UTC),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscription')),
        sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscription_endpoint')),
    )
    op.create_index(op.f('ix_push_subscription_member_id'), 'push_subscription', ['member_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_push_subscription_member_id'), table_name='push_subscription')
    op.drop_table('push_subscription')
