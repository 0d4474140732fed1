"""feedback threads between members and staff, and their posts

Revision ID: m7a0feedbk
Revises: m3a0signin
Create Date: 2026-12-03 16:50:00
"""
from alembic import op
import sqlalchemy as sa

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)

revision = 'm7a0feedbk'
down_revision = 'm3a0signin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feedback_thread',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('member.id', name=op.f('fk_feedback_thread_member_id_member')), nullable=False),
        sa.Column('category', sa.String(16), nullable=False),
        sa.Column('subject', sa.String(120), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('assigned_staff_id', sa.Integer(), sa.ForeignKey('staff.id', name=op.f('fk_feedback_thread_assigned_staff_id_staff'))),
        sa.Column('source', sa.String(10), nullable=False),
        sa.Column('survey_answer_id', sa.Integer()),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('last_member_at', UTC),
        sa.Column('last_staff_at', UTC),
        sa.UniqueConstraint('survey_answer_id', name='uq_feedback_thread_survey_answer'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_thread')),
    )
    op.create_index('ix_feedback_thread_member', 'feedback_thread', ['member_id', 'updated_at'])
    op.create_index('ix_feedback_thread_status', 'feedback_thread', ['status', 'updated_at'])
    op.create_index('ix_feedback_thread_assigned', 'feedback_thread', ['assigned_staff_id', 'status'])
    op.create_table(
        'feedback_post',
        sa.Column('id', BigIntPK, nullable=False),
        sa.Column('thread_id', sa.Integer(), sa.ForeignKey('feedback_thread.id', name=op.f('fk_feedback_post_thread_id_feedback_thread')), nullable=False),
        sa.Column('author', sa.String(8), nullable=False),
        sa.Column('staff_id', sa.Integer(), sa.ForeignKey('staff.id', name=op.f('fk_feedback_post_staff_id_staff'))),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('picture', sa.String(200)),
        sa.Column('internal', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_post')),
    )
    op.create_index('ix_feedback_post_thread_id', 'feedback_post', ['thread_id'])


def downgrade() -> None:
    op.drop_table('feedback_post')
    op.drop_table('feedback_thread')
