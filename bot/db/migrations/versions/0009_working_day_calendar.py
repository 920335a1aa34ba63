"""working-day calendar in the database: lateness as an ordinal difference in /score and /overdue

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 22:46:54
"""

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the bot at start from its WorkCalendar (bot.domain.calendar_table), not here: the calendar
    # depends on the `holidays` package and the override file the bot is configured with.
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    state = op.create_table('calendar_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('filled_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_state'))
    )
    # The one state row exists from the start, so instances refilling at once can lock it and take turns.
    op.bulk_insert(state, [{'id': 1, 'digest': ''}])


def downgrade() -> None:
    op.drop_table('calendar_state')
    op.drop_table('calendar_days')
