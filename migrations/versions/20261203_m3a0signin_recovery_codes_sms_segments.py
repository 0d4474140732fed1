"""sign-in codes and password resets; SMS segments and delivery reports

Revision ID: m3a0signin
Revises: m6a0bcast
Create Date: 2026-12-03 16:50:00
"""
from alembic import op
import sqlalchemy as sa

UTC = sa.DateTime(timezone=True)

revision = 'm3a0signin'
down_revision = 'm6a0bcast'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('member.id', name=op.f('fk_recovery_code_member_id_member')), nullable=False),
        sa.Column('purpose', sa.String(16), nullable=False),
        sa.Column('secret_hash', sa.String(64), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('used_at', UTC),
        sa.Column('window_started_at', UTC, nullable=False),
        sa.Column('sent_in_window', sa.Integer(), nullable=False),
        sa.UniqueConstraint('member_id', 'purpose', name='uq_recovery_code_member_purpose'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    )
    op.create_index('ix_recovery_code_secret', 'recovery_code', ['secret_hash'])
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('segments', sa.Integer()))
    op.create_index('ix_outbox_provider', 'outbox_message', ['channel', 'provider_id'])


def downgrade() -> None:
    op.drop_index('ix_outbox_provider', table_name='outbox_message')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('segments')
    op.drop_table('recovery_code')
