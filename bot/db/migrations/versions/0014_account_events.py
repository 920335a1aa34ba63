"""account_events: invitations, bindings and unbindings of staff accounts as rows (until now only a log line)

Append-only like audit_anchors: triggers refuse UPDATE and DELETE on both databases.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:00:00
"""

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_GUARDS = {
    'sqlite': [
        "CREATE TRIGGER account_events_no_update BEFORE UPDATE ON account_events "
        "BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END",
        "CREATE TRIGGER account_events_no_delete BEFORE DELETE ON account_events "
        "BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END",
    ],
    'postgresql': [
        "CREATE FUNCTION account_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'account_events is append-only'; END $$",
        "CREATE TRIGGER account_events_no_change BEFORE UPDATE OR DELETE ON account_events "
        "FOR EACH ROW EXECUTE FUNCTION account_events_append_only()",
    ],
}
_DROP_GUARDS = {
    'sqlite': ["DROP TRIGGER IF EXISTS account_events_no_update", "DROP TRIGGER IF EXISTS account_events_no_delete"],
    'postgresql': ["DROP TRIGGER IF EXISTS account_events_no_change ON account_events",
                   "DROP FUNCTION IF EXISTS account_events_append_only()"],
}


def upgrade() -> None:
    op.create_table('account_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('invite_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_events_account_id_accounts')),
    sa.ForeignKeyConstraint(['actor_account_id'], ['accounts.id'],
                            name=op.f('fk_account_events_actor_account_id_accounts')),
    sa.ForeignKeyConstraint(['invite_id'], ['invites.id'], name=op.f('fk_account_events_invite_id_invites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_events'))
    )
    op.create_index(op.f('ix_account_events_account_id'), 'account_events', ['account_id'], unique=False)
    op.create_index(op.f('ix_account_events_created_at'), 'account_events', ['created_at'], unique=False)
    for statement in _GUARDS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP_GUARDS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_index(op.f('ix_account_events_created_at'), table_name='account_events')
    op.drop_index(op.f('ix_account_events_account_id'), table_name='account_events')
    op.drop_table('account_events')
