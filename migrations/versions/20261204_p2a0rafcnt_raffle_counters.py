"""raffle: entries_count and tickets_total kept with every ticket, not only at the close

Revision ID: p2a0rafcnt
Revises: p1a0config
Create Date: 2026-12-04 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'p2a0rafcnt'
down_revision = 'p1a0config'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # set-wise from the entries (a closed raffle's frozen figures are the same sums)
    op.execute(
        "UPDATE raffle SET"
        " entries_count = (SELECT count(*) FROM raffle_entry e WHERE e.raffle_id = raffle.id AND e.tickets > 0),"
        " tickets_total = (SELECT coalesce(sum(e.tickets), 0) FROM raffle_entry e WHERE e.raffle_id = raffle.id)")
    with op.batch_alter_table('raffle') as batch:
        batch.alter_column('entries_count', existing_type=sa.Integer(), nullable=False, server_default='0')
        batch.alter_column('tickets_total', existing_type=sa.BigInteger(), nullable=False, server_default='0')


def downgrade() -> None:
    with op.batch_alter_table('raffle') as batch:
        batch.alter_column('entries_count', existing_type=sa.Integer(), nullable=True, server_default=None)
        batch.alter_column('tickets_total', existing_type=sa.BigInteger(), nullable=True, server_default=None)
    op.execute("UPDATE raffle SET entries_count = NULL, tickets_total = NULL WHERE status IN ('draft', 'open')")
