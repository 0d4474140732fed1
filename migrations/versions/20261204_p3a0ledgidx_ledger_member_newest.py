"""ledger_entry (member_id, id): a member's newest entries without a sort

Revision ID: p3a0ledgidx
Revises: p2a0tally
Create Date: 2026-12-04 20:40:00
"""
from alembic import op

revision = 'p3a0ledgidx'
down_revision = 'p2a0tally'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ledger_entry_member_id_id', 'ledger_entry', ['member_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_ledger_entry_member_id_id', table_name='ledger_entry')
