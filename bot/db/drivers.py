"""Whether the database URL's driver is installed: PostgreSQL's asyncpg is an extra (chengxin[postgres])."""

from __future__ import annotations

import importlib.util

ASYNCPG_MISSING = ("DATABASE_URL is a PostgreSQL URL but the asyncpg driver is not installed: "
                   "pip install 'chengxin[postgres]' (from a checkout: pip install -e '.[postgres]')")


class MissingDriver(RuntimeError):
    """The database URL needs a driver that is not installed."""


def driver_problem(url: str) -> str | None:
    """One line when the URL's driver is missing, else None (also None for a URL that is not PostgreSQL)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme.startswith(("postgresql", "postgres")) and importlib.util.find_spec("asyncpg") is None:
        return ASYNCPG_MISSING
    return None
