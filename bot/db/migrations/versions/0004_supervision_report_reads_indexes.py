"""supervision: report reads, indexes for statistics and scores

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('read_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_report_reads_account_id_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_report_reads_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_reads')),
    sa.UniqueConstraint('department_id', 'month', 'account_id', name=op.f('uq_report_reads_department_id'))
    )
    # Statistics, scores and the monthly review aggregate by period and department in the database.
    op.create_index('ix_cases_closed_at', 'cases', ['closed_at'], unique=False)
    op.create_index('ix_cases_department_created', 'cases', ['department_id', 'created_at'], unique=False)
    op.create_index('ix_cases_satisfaction_at', 'cases', ['satisfaction_at'], unique=False)
    op.create_index('ix_case_events_action_created', 'case_events', ['action', 'created_at'], unique=False)
    op.create_index('ix_obligations_closed_at', 'obligations', ['closed_at'], unique=False)
    op.create_index('ix_dishonesty_records_created_at', 'dishonesty_records', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dishonesty_records_created_at', table_name='dishonesty_records')
    op.drop_index('ix_obligations_closed_at', table_name='obligations')
    op.drop_index('ix_case_events_action_created', table_name='case_events')
    op.drop_index('ix_cases_satisfaction_at', table_name='cases')
    op.drop_index('ix_cases_department_created', table_name='cases')
    op.drop_index('ix_cases_closed_at', table_name='cases')
    op.drop_table('report_reads')
