"""supervision at scale: partial and covering indexes for /stats, /overdue and /score

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 22:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Open at a moment = not closed now − created since + closed since: the first term from a partial index.
    op.create_index('ix_cases_unclosed_department', 'cases', ['department_id'], unique=False,
                    postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))
    # Index-only GROUP BY department / domain / status over a period's cases, and ratings given in a period.
    op.create_index('ix_cases_created_cover', 'cases', ['created_at', 'department_id', 'domain', 'status'],
                    unique=False)
    op.create_index('ix_cases_satisfaction_cover', 'cases', ['satisfaction_at', 'department_id', 'satisfaction'],
                    unique=False)
    # Closing and reopening events of a period joined to their case's department without touching the heap.
    op.create_index('ix_cases_id_department', 'cases', ['id', 'department_id'], unique=False)
    op.create_index('ix_case_events_action_created_case', 'case_events', ['action', 'created_at', 'case_id'],
                    unique=False)
    # Open clocks (a small share of all): overdue per department and due time, oldest first per department.
    op.create_index('ix_obligations_open', 'obligations',
                    ['department_id', 'due_at', 'id', 'created_at', 'closed_at'], unique=False,
                    postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
    # Clocks met / missed in a period, by department and due time (on-time rate, working days late).
    op.create_index('ix_obligations_state_closed', 'obligations', ['state', 'closed_at', 'department_id', 'due_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_obligations_state_closed', table_name='obligations')
    op.drop_index('ix_obligations_open', table_name='obligations')
    op.drop_index('ix_case_events_action_created_case', table_name='case_events')
    op.drop_index('ix_cases_id_department', table_name='cases')
    op.drop_index('ix_cases_satisfaction_cover', table_name='cases')
    op.drop_index('ix_cases_created_cover', table_name='cases')
    op.drop_index('ix_cases_unclosed_department', table_name='cases')
