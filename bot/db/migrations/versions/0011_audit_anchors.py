"""audit that proves: keyed event hashes (hash_version), chain head/length/seal on cases and register
commitments, the append-only daily anchors table

Events written before this revision keep their unkeyed SHA-256 hashes and get hash_version 1 (the
server default); new events are HMAC-SHA-256 with the audit key (hash_version 2). The chains of existing
cases are sealed with the key by the first anchor (bot.domain.anchors), which the bot makes at start.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 00:40:00
"""

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_GUARDS = {
    'sqlite': [
        "CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors "
        "BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END",
        "CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors "
        "BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END",
    ],
    'postgresql': [
        "CREATE FUNCTION audit_anchors_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_anchors is append-only'; END $$",
        "CREATE TRIGGER audit_anchors_no_change BEFORE UPDATE OR DELETE ON audit_anchors "
        "FOR EACH ROW EXECUTE FUNCTION audit_anchors_append_only()",
    ],
}
_DROP_GUARDS = {
    'sqlite': ["DROP TRIGGER IF EXISTS audit_anchors_no_update", "DROP TRIGGER IF EXISTS audit_anchors_no_delete"],
    'postgresql': ["DROP TRIGGER IF EXISTS audit_anchors_no_change ON audit_anchors",
                   "DROP FUNCTION IF EXISTS audit_anchors_append_only()"],
}


def upgrade() -> None:
    for table in ('case_events', 'commitment_events'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('hash_version', sa.Integer(), server_default='1', nullable=False))
    for table in ('cases', 'commitments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('audit_head', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('audit_count', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('audit_seal', sa.String(length=64), nullable=True))
    op.create_table('audit_anchors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chains', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('case_event_cut', sa.Integer(), nullable=False),
    sa.Column('commitment_event_cut', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('prev_root', sa.String(length=64), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchors')),
    sa.UniqueConstraint('day', name=op.f('uq_audit_anchors_day'))
    )
    for statement in _GUARDS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP_GUARDS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_table('audit_anchors')
    for table in ('cases', 'commitments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('audit_seal')
            batch_op.drop_column('audit_count')
            batch_op.drop_column('audit_head')
    for table in ('case_events', 'commitment_events'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('hash_version')
