"""one update, one effect: processed update ids; evidence forwarded through the outbound table

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 01:00:00
"""

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processed_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_processed_updates'))
    )
    op.create_index(op.f('ix_processed_updates_created_at'), 'processed_updates', ['created_at'], unique=False)
    with op.batch_alter_table('outbound_messages') as batch:
        batch.add_column(sa.Column('media', sa.String(length=12), nullable=True))
        batch.add_column(sa.Column('file_id', sa.String(length=256), nullable=True))
        batch.add_column(sa.Column('attachment', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('filename', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_column('filename')
        batch.drop_column('attachment')
        batch.drop_column('file_id')
        batch.drop_column('media')
    op.drop_index(op.f('ix_processed_updates_created_at'), table_name='processed_updates')
    op.drop_table('processed_updates')
