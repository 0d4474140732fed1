"""tiers, inbox, credit spends, purchase fee

Revision ID: b59953d2dc09
Revises: f57c28838d19
Create Date: 2026-11-25 09:27:39.187146
"""
from alembic import op
import sqlalchemy as sa


revision = 'b59953d2dc09'
down_revision = 'f57c28838d19'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tier_program',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('window_kind', sa.String(length=16), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('calendar_period', sa.String(length=16), nullable=True),
    sa.Column('calendar_system', sa.String(length=16), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('allow_overrides', sa.Boolean(), nullable=False),
    sa.Column('rebate_money_per_point', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("metric IN ('points_earned', 'spend', 'purchases')", name=op.f('ck_tier_program_metric_known')),
    sa.CheckConstraint("window_kind IN ('rolling', 'calendar')", name=op.f('ck_tier_program_window_known')),
    sa.CheckConstraint('grace_days >= 0', name=op.f('ck_tier_program_grace_not_negative')),
    sa.CheckConstraint('window_days > 0', name=op.f('ck_tier_program_window_days_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_program'))
    )
    op.create_table('tier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_fa', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('threshold', sa.BigInteger(), nullable=False),
    sa.Column('earn_multiplier_bp', sa.Integer(), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('icon', sa.String(length=32), nullable=False),
    sa.Column('benefits', sa.JSON(), nullable=False),
    sa.Column('perks', sa.JSON(), nullable=False),
    sa.CheckConstraint('earn_multiplier_bp >= 0', name=op.f('ck_tier_multiplier_not_negative')),
    sa.CheckConstraint('threshold >= 0', name=op.f('ck_tier_threshold_not_negative')),
    sa.ForeignKeyConstraint(['program_id'], ['tier_program.id'], name=op.f('fk_tier_program_id_tier_program')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier')),
    sa.UniqueConstraint('program_id', 'code', name=op.f('uq_tier_program_id_code')),
    sa.UniqueConstraint('program_id', 'rank', name=op.f('uq_tier_program_id_rank'))
    )
    op.create_table('credit_spend',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_spend_amount_positive')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name=op.f('ck_credit_spend_refund_in_range')),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_credit_spend_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_credit_spend_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_spend')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_credit_spend_external_ref'))
    )
    with op.batch_alter_table('credit_spend', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_spend_member_id'), ['member_id'], unique=False)

    op.create_table('inbox_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_inbox_message_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_message')),
    sa.UniqueConstraint('key', name=op.f('uq_inbox_message_key'))
    )
    with op.batch_alter_table('inbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_message_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('tier_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('from_tier_id', sa.Integer(), nullable=True),
    sa.Column('to_tier_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('metric_value', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_tier_id'], ['tier.id'], name=op.f('fk_tier_history_from_tier_id_tier'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_tier_history_member_id_member')),
    sa.ForeignKeyConstraint(['to_tier_id'], ['tier.id'], name=op.f('fk_tier_history_to_tier_id_tier'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_history')),
    sa.UniqueConstraint('key', name=op.f('uq_tier_history_key'))
    )
    with op.batch_alter_table('tier_history', schema=None) as batch_op:
        batch_op.create_index('ix_tier_history_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('credit_refund',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('spend_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_refund_amount_positive')),
    sa.ForeignKeyConstraint(['spend_id'], ['credit_spend.id'], name=op.f('fk_credit_refund_spend_id_credit_spend')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_refund')),
    sa.UniqueConstraint('spend_id', 'external_ref', name=op.f('uq_credit_refund_spend_id_external_ref'))
    )
    with op.batch_alter_table('credit_refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_refund_spend_id'), ['spend_id'], unique=False)

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_kind_created', ['kind', 'created_at'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tier_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tier_metric', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('downgrade_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tier_override_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tier_override_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_tier_id'), ['tier_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_member_tier_id_tier'), 'tier', ['tier_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_member_tier_override_id_tier'), 'tier', ['tier_override_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.create_index('ix_purchase_member_occurred', ['member_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_purchase_occurred_at', ['occurred_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_occurred_at')
        batch_op.drop_index('ix_purchase_member_occurred')
        batch_op.drop_column('fee')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_member_tier_override_id_tier'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_member_tier_id_tier'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_member_tier_id'))
        batch_op.drop_column('tier_override_until')
        batch_op.drop_column('tier_override_id')
        batch_op.drop_column('downgrade_due_at')
        batch_op.drop_column('tier_metric')
        batch_op.drop_column('tier_since')
        batch_op.drop_column('tier_id')

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_kind_created')

    with op.batch_alter_table('credit_refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_refund_spend_id'))

    op.drop_table('credit_refund')
    with op.batch_alter_table('tier_history', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_history_member_id_id')

    op.drop_table('tier_history')
    with op.batch_alter_table('inbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_message_member_id_id')

    op.drop_table('inbox_message')
    with op.batch_alter_table('credit_spend', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_spend_member_id'))

    op.drop_table('credit_spend')
    op.drop_table('tier')
    op.drop_table('tier_program')
