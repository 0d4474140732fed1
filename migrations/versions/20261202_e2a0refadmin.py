"""referral admin: indexes for the staff report and the review queue

Revision ID: e2a0refadmin
Revises: e1a0referral
Create Date: 2026-12-02 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e2a0refadmin'
down_revision = 'e1a0referral'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_referral_qualified_at', ['qualified_at'], unique=False)
        batch_op.create_index('ix_referral_visitor', ['visitor'], unique=False)
    op.create_index('ix_ledger_entry_referral_created', 'ledger_entry', ['created_at'], unique=False,
                    postgresql_where=sa.text("source_type = 'referral'"),
                    sqlite_where=sa.text("source_type = 'referral'"))


def downgrade() -> None:
    op.drop_index('ix_ledger_entry_referral_created', table_name='ledger_entry',
                  postgresql_where=sa.text("source_type = 'referral'"),
                  sqlite_where=sa.text("source_type = 'referral'"))
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_visitor')
        batch_op.drop_index('ix_referral_qualified_at')
        batch_op.drop_index('ix_referral_created_at')
