"""Reading a page's query string (page number, month, the filters' choices) and the pager's links.

The public lists (/records, /commitments), the feed and the dashboard's case list read their query the same
way: anything malformed is ignored (the unfiltered list, page 1) except a malformed month, which is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.stats import Period, month_period
from bot.web import texts_web

MAX_PAGE = 100_000


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return max(1, min(int(raw), MAX_PAGE)) if raw.isdigit() else 1


def parse_month_param(raw: str | None, today: date, tz) -> Period:
    """YYYY-MM, or this month when absent; 400 for anything else."""
    if not raw:
        return month_period(today.year, today.month, tz)
    try:
        year, month = (int(part) for part in raw.split("-", 1))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        raise web.HTTPBadRequest(text=texts_web.BAD_MONTH) from None
    return month_period(year, month, tz)


def choice(request: web.Request, name: str, allowed: Collection[str]) -> str | None:
    """The query's value for `name` when it is one of `allowed`, else None (no filter)."""
    value = request.query.get(name)
    return value if value in allowed else None


def year_choice(request: web.Request, name: str = "year") -> int | None:
    raw = request.query.get(name, "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None


def department_choice(request: web.Request, departments: Iterable, name: str = "department"):
    """The department (from those offered) whose code the query names, or None."""
    wanted = request.query.get(name, "")
    return next((d for d in departments if d.code == wanted), None) if wanted else None


@dataclass(frozen=True)
class Pager:
    """Page `page` of `pages`; `kept` are the filters the previous/next links carry over (empty ones dropped)."""

    page: int
    pages: int
    kept: dict = field(default_factory=dict)

    def href(self, page: int) -> str:
        query = {k: ("1" if v is True else v) for k, v in self.kept.items() if v not in (None, "", False)}
        return "?" + urlencode({**query, "page": page})

    @property
    def prev(self) -> str | None:
        return self.href(self.page - 1) if self.page > 1 else None

    @property
    def next(self) -> str | None:
        return self.href(self.page + 1) if self.page < self.pages else None


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))
