"""Persistence: SQLAlchemy models, the engine/session factory and Alembic migrations."""

from bot.db.session import Database

__all__ = ["Database"]
