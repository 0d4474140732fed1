"""contests, questions, attempts and predictions

Revision ID: d2a0contests
Revises: d1a0raffles0
Create Date: 2026-12-02 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd2a0contests'
down_revision = 'd1a0raffles0'
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('contest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_fa', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('description_fa', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_cost', sa.BigInteger(), nullable=False),
    sa.Column('participation_points', sa.BigInteger(), nullable=False),
    sa.Column('prizes', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('result_entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tie_unit_ms', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_contest_period_positive')),
    sa.CheckConstraint('entry_cost >= 0 AND participation_points >= 0',
                       name=op.f('ck_contest_amounts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest'))
    )
    op.create_index('ix_contest_status_closes', 'contest', ['status', 'closes_at'])

    op.create_table('contest_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text_fa', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct_option', sa.Integer(), nullable=False),
    sa.Column('time_limit_ms', sa.Integer(), nullable=False),
    sa.Column('image', sa.String(length=200), nullable=True),
    sa.CheckConstraint('time_limit_ms > 0', name=op.f('ck_contest_question_time_limit_positive')),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_question_contest_id_contest'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_question')),
    sa.UniqueConstraint('contest_id', 'position', name=op.f('uq_contest_question_contest_id_position'))
    )

    op.create_table('contest_entry',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('prediction', sa.JSON(), nullable=True),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('elapsed_ms', sa.BigInteger(), nullable=False),
    sa.Column('tie_time', sa.BigInteger(), nullable=False),
    sa.Column('final_rank', sa.Integer(), nullable=True),
    sa.Column('prize', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_entry_contest_id_contest'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_contest_entry_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_entry')),
    sa.UniqueConstraint('contest_id', 'member_id', name=op.f('uq_contest_entry_contest_id_member_id'))
    )
    op.create_index('ix_contest_entry_rank', 'contest_entry', ['contest_id', 'final_rank'])
    op.create_index('ix_contest_entry_member', 'contest_entry', ['member_id', 'started_at'])

    op.create_table('contest_answer',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('served_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('option', sa.Integer(), nullable=True),
    sa.Column('elapsed_ms', sa.BigInteger(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['contest_entry.id'], name=op.f('fk_contest_answer_entry_id_contest_entry'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['contest_question.id'],
                            name=op.f('fk_contest_answer_question_id_contest_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_answer')),
    sa.UniqueConstraint('entry_id', 'question_id', name=op.f('uq_contest_answer_entry_id_question_id'))
    )


def downgrade() -> None:
    op.drop_table('contest_answer')
    op.drop_index('ix_contest_entry_member', table_name='contest_entry')
    op.drop_index('ix_contest_entry_rank', table_name='contest_entry')
    op.drop_table('contest_entry')
    op.drop_table('contest_question')
    op.drop_index('ix_contest_status_closes', table_name='contest')
    op.drop_table('contest')
