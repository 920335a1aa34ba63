"""account_event_chain: account_events become one keyed audit chain (seq, prev_hash, hash, hash_version), its
head row, and the anchors' account_events cut

Existing rows are chained here, in id order, as the chain's unkeyed start (the way migration 0011 treated
old case events: the migration has no audit key): SHA-256 over the same content the keyed hash covers
(bot.domain.account_chain.account_event_digest, repeated below), `hash_version` 1, and the head row gets
their length and head without a seal. The first keyed event (record_account_change) or the first anchor
seals the head; every event after that is HMAC-SHA-256 with the audit key. The append-only triggers are
dropped for the backfill and made again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 08:00:00
"""

import hashlib
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

_GUARDS = {
    'sqlite': [
        "CREATE TRIGGER account_events_no_update BEFORE UPDATE ON account_events "
        "BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END",
        "CREATE TRIGGER account_events_no_delete BEFORE DELETE ON account_events "
        "BEGIN SELECT RAISE(ABORT, 'account_events is append-only'); END",
    ],
    'postgresql': [
        "CREATE TRIGGER account_events_no_change BEFORE UPDATE OR DELETE ON account_events "
        "FOR EACH ROW EXECUTE FUNCTION account_events_append_only()",
    ],
}
_DROP_GUARDS = {
    'sqlite': ["DROP TRIGGER IF EXISTS account_events_no_update", "DROP TRIGGER IF EXISTS account_events_no_delete"],
    'postgresql': ["DROP TRIGGER IF EXISTS account_events_no_change ON account_events"],
}


def _digest(prev_hash, seq, row) -> str:
    """bot.domain.account_chain.account_event_digest, frozen here as it was at this revision."""
    created_at = row.created_at
    if created_at.tzinfo is None:  # SQLite hands back naive UTC when read without the model's type
        created_at = created_at.replace(tzinfo=timezone.utc)
    content = ["account", prev_hash, seq, row.account_id, row.actor_account_id, row.invite_id, row.action,
               json.dumps(row.before, ensure_ascii=False, sort_keys=True),
               json.dumps(row.after, ensure_ascii=False, sort_keys=True),
               created_at.astimezone(timezone.utc).isoformat(timespec="microseconds")]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    for statement in _DROP_GUARDS.get(bind.dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('account_events') as batch:
        batch.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('hash_version', sa.Integer(), server_default='2', nullable=False))
    events = sa.table('account_events', sa.column('id', sa.Integer), sa.column('account_id', sa.Integer),
                      sa.column('actor_account_id', sa.Integer), sa.column('invite_id', sa.Integer),
                      sa.column('action', sa.String), sa.column('before', sa.JSON), sa.column('after', sa.JSON),
                      sa.column('created_at', bot.db.types.UTCDateTime(timezone=True)),
                      sa.column('seq', sa.Integer), sa.column('prev_hash', sa.String),
                      sa.column('hash', sa.String), sa.column('hash_version', sa.Integer))
    previous, seq = GENESIS, 0
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        seq += 1
        digest = _digest(previous, seq, row)
        bind.execute(events.update().where(events.c.id == row.id).values(
            seq=seq, prev_hash=previous, hash=digest, hash_version=1))
        previous = digest
    with op.batch_alter_table('account_events') as batch:
        batch.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f('uq_account_events_seq'), ['seq'])
    for statement in _GUARDS.get(bind.dialect.name, []):
        op.execute(statement)
    chain = op.create_table('account_event_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.Column('seal', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_event_chain'))
    )
    op.bulk_insert(chain, [{"id": 1, "count": seq, "head": previous, "seal": None}])
    with op.batch_alter_table('audit_anchors') as batch:
        batch.add_column(sa.Column('account_event_cut', sa.Integer(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('audit_anchors') as batch:
        batch.drop_column('account_event_cut')
    op.drop_table('account_event_chain')
    for statement in _DROP_GUARDS.get(bind.dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('account_events') as batch:
        batch.drop_constraint(batch.f('uq_account_events_seq'), type_='unique')
        batch.drop_column('hash_version')
        batch.drop_column('hash')
        batch.drop_column('prev_hash')
        batch.drop_column('seq')
    for statement in _GUARDS.get(bind.dialect.name, []):
        op.execute(statement)
