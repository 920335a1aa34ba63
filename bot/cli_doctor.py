"""`chengxin doctor`: what an operator pastes into a support request. One line per check, OK or FAIL;
exits 1 when anything failed. Never prints the bot token or database credentials, never sends the token
anywhere (the Bot API check asks the server's root), never changes the database (no migration)."""

from __future__ import annotations

import asyncio
import hashlib
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

KEY_PACKAGES = (
    "python-telegram-bot", "APScheduler", "SQLAlchemy", "alembic", "aiosqlite", "asyncpg", "pydantic-settings",
    "holidays", "jieba", "opencc-python-reimplemented", "aiohttp", "openpyxl", "matplotlib", "prometheus-client",
)
API_TIMEOUT_SECONDS = 5.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'OK  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def _required() -> dict[str, object]:
    """This project's own requirements (name -> packaging Requirement), to flag an installed version outside them."""
    try:
        from packaging.requirements import Requirement

        found = {}
        for spec in metadata.requires("chengxin") or []:
            requirement = Requirement(spec)
            found[requirement.name.lower()] = requirement
        return found
    except Exception:  # noqa: BLE001 - not installed as a package (running from a checkout): no ranges
        return {}


def check_versions(database_is_postgres: bool) -> list[Check]:
    required = _required()
    checks = [Check("python", sys.version_info >= (3, 11), f"{platform.python_version()} ({sys.executable})")]
    for name in KEY_PACKAGES:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            needed = name == "asyncpg" and database_is_postgres
            hint = " (needed for PostgreSQL: pip install 'chengxin[postgres]')" if name == "asyncpg" else ""
            checks.append(Check(name, not needed and name in ("asyncpg",), f"not installed{hint}"))
            continue
        requirement = required.get(name.lower())
        fits = requirement is None or not requirement.specifier or requirement.specifier.contains(
            installed, prereleases=True)
        detail = installed if fits else f"{installed}, outside {requirement.specifier} (pyproject.toml)"
        checks.append(Check(name, fits, detail))
    return checks


def safe_url(url: str) -> str:
    """The database URL without user name and password."""
    from sqlalchemy.engine import URL, make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        return "(not a valid URL)"
    bare = URL.create(parsed.drivername, host=parsed.host, port=parsed.port, database=parsed.database,
                      query=parsed.query)
    return bare.render_as_string(hide_password=True)


async def check_database(url: str) -> list[Check]:
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.migrate import alembic_config

    shown = safe_url(url)
    checks = [Check("database", True, shown)]
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        return [Check("database", False, f"DATABASE_URL is not a valid URL: {shown}")]
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not Path(parsed.database).exists():
        return [Check("database", False, f"{shown}: the file does not exist (the bot creates it at first start; "
                                         f"or run chengxin db upgrade)")]
    try:
        engine = create_async_engine(parsed)
    except ImportError as error:
        return [Check("database", False, f"{shown}: driver missing ({error.name or error}); "
                                         "for PostgreSQL install 'chengxin[postgres]'")]
    try:
        async with engine.connect() as connection:
            try:
                revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except Exception:  # noqa: BLE001 - no table: never migrated
                revision = None
    except Exception as error:  # noqa: BLE001 - any failure to connect is the finding
        return [Check("database", False, f"{shown}: cannot connect ({type(error).__name__}: "
                                         f"{str(error).splitlines()[0][:200] if str(error) else ''})")]
    finally:
        await engine.dispose()
    if revision == head:
        checks.append(Check("schema", True, f"revision {revision} (the newest)"))
    elif revision is None:
        checks.append(Check("schema", False, f"empty database, newest revision is {head}: run chengxin db upgrade"))
    else:
        checks.append(Check("schema", False, f"revision {revision}, newest is {head}: run chengxin db upgrade "
                                             "(the bot also migrates at start)"))
    return checks


def check_calendar(settings) -> list[Check]:
    from datetime import datetime

    from bot.domain.workdays import WorkCalendar

    try:
        calendar = WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None)
    except (ValueError, OSError) as error:
        return [Check("calendar", False, f"override file: {error}")]
    today = datetime.now(settings.tz).date()
    sources = ", ".join(f"{year} {calendar.schedule_source(year) or 'MISSING'}"
                        for year in (today.year, today.year + 1))
    where = f"override file {calendar.override_file}" if calendar.override_file else "no override file"
    problem = calendar.coverage_problem(today)
    return [Check("calendar", problem is None, f"{sources} ({where})" + (f"; {problem}" if problem else ""))]


def check_policy(settings) -> list[Check]:
    from bot.policy import DEFAULT_POLICY_FILE, PolicyError, load_policy

    path = Path(settings.policy_file) if settings.policy_file else DEFAULT_POLICY_FILE
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        return [Check("policy", False, f"{path}: {error.strerror or error}")]
    try:
        load_policy(path)
    except (PolicyError, ValueError) as error:
        return [Check("policy", False, f"{path} sha256 {digest}: {error}")]
    return [Check("policy", True, f"{path} sha256 {digest}")]


def check_font() -> list[Check]:
    from bot.domain.reports import cjk_font

    try:
        font = cjk_font()
    except Exception as error:  # noqa: BLE001
        return [Check("chart font", False, f"matplotlib failed: {error}")]
    if font is None:
        return [Check("chart font", False, "no CJK font: charts are labelled in ASCII; install fonts-noto-cjk "
                                           "or put a .ttf/.otf under bot/data/fonts/")]
    return [Check("chart font", True, font)]


async def check_api(root: str, timeout: float = API_TIMEOUT_SECONDS) -> list[Check]:
    """GET the Bot API server's root (no token in the URL): any HTTP answer means it is reachable."""
    import aiohttp

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.get(root, allow_redirects=False) as response:
                return [Check("bot api", True, f"{root} answers (HTTP {response.status})")]
    except asyncio.TimeoutError:
        return [Check("bot api", False, f"{root}: no answer within {timeout:g} s")]
    except Exception as error:  # noqa: BLE001 - connection refused, DNS, TLS...
        return [Check("bot api", False, f"{root}: unreachable ({type(error).__name__}: {error})")]


def doctor(settings) -> int:
    from sqlalchemy.engine import make_url

    try:
        postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
    except Exception:  # noqa: BLE001
        postgres = False

    async def network_checks() -> list[Check]:
        return await check_database(settings.database_url) + await check_api(settings.api_root)

    checks = check_versions(postgres)
    database_and_api = asyncio.run(network_checks())
    checks += database_and_api[:-1] + check_calendar(settings) + check_policy(settings) + check_font()
    checks.append(database_and_api[-1])
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print(f"{len(failed)} problem(s)" if failed else "no problems found")
    return 1 if failed else 0
