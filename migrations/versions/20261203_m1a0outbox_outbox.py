"""the outbox: one row per (member, channel, cause); push consent

Revision ID: m1a0outbox
Revises: e4a0refmembr
Create Date: 2026-12-03 16:20:00
"""
from alembic import op
import sqlalchemy as sa

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)

revision = 'm1a0outbox'
down_revision = 'e4a0refmembr'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox_message',
        sa.Column('id', BigIntPK, nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('member.id', name=op.f('fk_outbox_message_member_id_member')), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('category', sa.String(16), nullable=False),
        sa.Column('key', sa.String(200), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('address', sa.String(254)),
        sa.Column('broadcast_id', sa.Integer()),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('reason', sa.String(40)),
        sa.Column('error', sa.Text()),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=False),
        sa.Column('claimed_until', UTC),
        sa.Column('provider_id', sa.String(120)),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('sent_at', UTC),
        sa.Column('delivered_at', UTC),
        sa.Column('opened_at', UTC),
        sa.Column('clicked_at', UTC),
        sa.UniqueConstraint('member_id', 'channel', 'key', name='uq_outbox_member_channel_key'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    )
    op.create_index('ix_outbox_due', 'outbox_message', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_broadcast', 'outbox_message', ['broadcast_id', 'channel', 'status'])
    op.create_index('ix_outbox_member_created', 'outbox_message', ['member_id', 'created_at'])
    with op.batch_alter_table('member') as batch:
        batch.add_column(sa.Column('consent_push', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('member') as batch:
        batch.drop_column('consent_push')
    op.drop_table('outbox_message')
