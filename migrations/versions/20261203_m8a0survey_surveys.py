"""surveys: NPS/CSAT questions, invitations by unguessable token, answers

Revision ID: m8a0survey
Revises: m7a0feedbk (m1a0outbox before the feedback branch was merged in)
Create Date: 2026-12-03 16:45:00
"""
from alembic import op
import sqlalchemy as sa

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)

revision = 'm8a0survey'
down_revision = 'm7a0feedbk'  # chained after the merged h13-feedback revision (one head)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'survey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('question_fa', sa.Text(), nullable=False),
        sa.Column('question_en', sa.Text(), nullable=False),
        sa.Column('trigger', sa.String(20), nullable=False),
        sa.Column('segment_id', sa.Integer(), sa.ForeignKey('segment.id', name=op.f('fk_survey_segment_id_segment'))),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('created_by', sa.String(64), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey')),
    )
    op.create_index('ix_survey_status_trigger', 'survey', ['status', 'trigger'])
    op.create_table(
        'survey_invite',
        sa.Column('id', BigIntPK, nullable=False),
        sa.Column('survey_id', sa.Integer(), sa.ForeignKey('survey.id', name=op.f('fk_survey_invite_survey_id_survey')), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('member.id', name=op.f('fk_survey_invite_member_id_member')), nullable=False),
        sa.Column('token', sa.String(64), nullable=False),
        sa.Column('cause', sa.String(80), nullable=False),
        sa.Column('sent_at', UTC, nullable=False),
        sa.Column('answered_at', UTC),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invite')),
        sa.UniqueConstraint('token', name=op.f('uq_survey_invite_token')),
        sa.UniqueConstraint('survey_id', 'cause', name='uq_survey_invite_cause'),
    )
    op.create_index('ix_survey_invite_member', 'survey_invite', ['survey_id', 'member_id', 'sent_at'])
    op.create_index(op.f('ix_survey_invite_member_id'), 'survey_invite', ['member_id'])
    op.create_table(
        'survey_answer',
        sa.Column('id', BigIntPK, nullable=False),
        sa.Column('invite_id', sa.BigInteger(), sa.ForeignKey('survey_invite.id', name=op.f('fk_survey_answer_invite_id_survey_invite')), nullable=False),
        sa.Column('survey_id', sa.Integer(), sa.ForeignKey('survey.id', name=op.f('fk_survey_answer_survey_id_survey')), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('member.id', name=op.f('fk_survey_answer_member_id_member')), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text()),
        sa.Column('tier_id', sa.Integer(), sa.ForeignKey('tier.id', name=op.f('fk_survey_answer_tier_id_tier'), ondelete='SET NULL')),
        sa.Column('created_at', UTC, nullable=False),
        sa.CheckConstraint('score >= 0 AND score <= 10', name=op.f('ck_survey_answer_score_in_range')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
        sa.UniqueConstraint('invite_id', name=op.f('uq_survey_answer_invite_id')),
    )
    op.create_index('ix_survey_answer_survey_created', 'survey_answer', ['survey_id', 'created_at'])
    op.create_index(op.f('ix_survey_answer_member_id'), 'survey_answer', ['member_id'])


def downgrade() -> None:
    op.drop_table('survey_answer')
    op.drop_table('survey_invite')
    op.drop_table('survey')
