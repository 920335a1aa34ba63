"""regions (the directory's region names); records.case_tolerated, the public records' version counter, commitment clocks' index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 04:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('regions',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    with op.batch_alter_table('dishonesty_records') as batch:
        batch.add_column(sa.Column('case_tolerated', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE dishonesty_records SET case_tolerated = true "
               "WHERE case_id IN (SELECT id FROM cases WHERE outcome = 'tolerated')")
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "public_records", "value": 0}])
    op.create_index('ix_obligations_of_commitments', 'obligations', ['commitment_id'], unique=False,
                    postgresql_where=sa.text("commitment_id IS NOT NULL"),
                    sqlite_where=sa.text("commitment_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('ix_obligations_of_commitments', table_name='obligations',
                  postgresql_where=sa.text("commitment_id IS NOT NULL"), sqlite_where=sa.text("commitment_id IS NOT NULL"))
    op.execute("DELETE FROM counters WHERE name = 'public_records'")
    with op.batch_alter_table('dishonesty_records') as batch:
        batch.drop_column('case_tolerated')
    op.drop_table('regions')
