"""Alembic, driven from code: the bot migrates on start and `chengxin db upgrade` does it by hand."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Run inside `AsyncConnection.run_sync`: the async engine lends its connection to Alembic."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
