"""referrer_tally: the member's invite funnel as counters, backfilled from the rows

Revision ID: p2a0tally
Revises: p2a0rafcnt
Create Date: 2026-12-03 20:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'p2a0tally'
down_revision = 'p2a0rafcnt'
branch_labels = None
depends_on = None

COUNTERS = ('opens', 'signups', 'pending', 'held', 'qualified', 'reversed', 'points_earned', 'credit_earned')

# one set-based statement: each referrer's counters as the rows say (the same
# definitions as services/referrals/tally.py and stats.funnel)
BACKFILL = """
INSERT INTO referrer_tally (member_id, opens, signups, pending, held, qualified, reversed,
                            points_earned, credit_earned)
SELECT m.id, COALESCE(o.opens, 0), COALESCE(r.signups, 0), COALESCE(r.pending, 0),
       COALESCE(r.held, 0), COALESCE(r.qualified, 0), COALESCE(r.reversed, 0),
       COALESCE(e.points, 0), COALESCE(e.credit, 0)
FROM member m
LEFT JOIN (SELECT referrer_id, COUNT(*) AS opens FROM referral_open
           WHERE referrer_id IS NOT NULL GROUP BY referrer_id) o ON o.referrer_id = m.id
LEFT JOIN (SELECT referrer_id, COUNT(*) AS signups,
                  SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
                  SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END) AS held,
                  SUM(CASE WHEN status = 'qualified' THEN 1 ELSE 0 END) AS qualified,
                  SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END) AS reversed
           FROM referral WHERE referrer_id IS NOT NULL GROUP BY referrer_id) r ON r.referrer_id = m.id
LEFT JOIN (SELECT member_id,
                  SUM(CASE WHEN currency = 'points' THEN amount ELSE 0 END) AS points,
                  SUM(CASE WHEN currency = 'credit' THEN amount ELSE 0 END) AS credit
           FROM ledger_entry
           WHERE source_type = 'referral' AND idempotency_key LIKE :referrer_keys
           GROUP BY member_id) e ON e.member_id = m.id
WHERE o.referrer_id IS NOT NULL OR r.referrer_id IS NOT NULL OR e.member_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        'referrer_tally',
        sa.Column('member_id', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger() if name in ('opens', 'points_earned', 'credit_earned') else sa.Integer(),
                    nullable=False, server_default='0') for name in COUNTERS),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_referrer_tally_member_id_member'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_referrer_tally')),
    )
    op.get_bind().execute(sa.text(BACKFILL), {'referrer_keys': 'referral:%:referrer%'})


def downgrade() -> None:
    op.drop_table('referrer_tally')
