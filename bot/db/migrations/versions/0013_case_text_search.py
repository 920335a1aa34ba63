"""/find across traditional and simplified: cases.text_search, the complaint folded by nlp.normalize_text

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    from nlp.classifier import normalize_text

    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('text_search', sa.Text(), nullable=True))
    connection = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                     sa.column('text_search', sa.Text))
    last = 0
    while True:  # in batches by id, so a million cases never sit in memory at once
        rows = connection.execute(sa.select(cases.c.id, cases.c.text).where(cases.c.id > last)
                                  .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(cases.update().where(cases.c.id == sa.bindparam('case_id'))
                           .values(text_search=sa.bindparam('folded')),
                           [{'case_id': row.id, 'folded': normalize_text(row.text or '')} for row in rows])
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('text_search')
