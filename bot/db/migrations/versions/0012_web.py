"""web: one-time dashboard login links, dashboard sessions, the departments' 统一社会信用代码

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 00:45:00
"""

from alembic import op
import sqlalchemy as sa
import bot.db.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments') as batch:
        batch.add_column(sa.Column('credit_code', sa.String(length=18), nullable=True))
    op.create_table('web_login_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_web_login_links_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_login_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_login_links_token_hash'))
    )
    op.create_index(op.f('ix_web_login_links_telegram_id'), 'web_login_links', ['telegram_id'], unique=False)
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_web_sessions_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_web_sessions_session_hash'))
    )
    op.create_index(op.f('ix_web_sessions_account_id'), 'web_sessions', ['account_id'], unique=False)
    op.create_index('ix_cases_tolerated', 'cases', ['id'], unique=False,
                    postgresql_where=sa.text("outcome = 'tolerated'"), sqlite_where=sa.text("outcome = 'tolerated'"))


def downgrade() -> None:
    op.drop_index('ix_cases_tolerated', table_name='cases', postgresql_where=sa.text("outcome = 'tolerated'"),
                  sqlite_where=sa.text("outcome = 'tolerated'"))
    op.drop_index(op.f('ix_web_sessions_account_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_web_login_links_telegram_id'), table_name='web_login_links')
    op.drop_table('web_login_links')
    with op.batch_alter_table('departments') as batch:
        batch.drop_column('credit_code')
