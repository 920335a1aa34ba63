"""`chengxin doctor` as an operator runs it before a support request (real processes; the "Bot API" is a
local aiohttp server or a closed port, never the network). And asyncpg is an extra: a PostgreSQL URL
without it is one clear line, not a traceback."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.domain.reports import cjk_font
from bot.policy import DEFAULT_POLICY_FILE

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:" + "S" * 35


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def calendar_file(tmp_path: Path, *, next_year: bool) -> Path:
    """An override file that covers this year and, if asked, next year (a 调休 Saturday each)."""
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    days = [f'"{year}-10-10" = "work"'] + ([f'"{year + 1}-02-20" = "work"'] if next_year else [])
    path = tmp_path / "calendar.toml"
    path.write_text("[days]\n" + "\n".join(days) + "\n", "utf-8")
    return path


async def run(*args: str, cwd: Path, env: dict[str, str], prelude: str = "") -> tuple[int, str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CHENGXIN_", "DATABASE_"))}
    environment.update(env, PYTHONPATH=str(ROOT))
    code = prelude + "import sys; from bot.__main__ import main; sys.exit(main(sys.argv[1:]))"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args, cwd=str(cwd), env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def api_root():
    """A stand-in Bot API server that records the paths it was asked for."""
    seen: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.Response(status=404 if request.path != "/" else 200, text="stand-in")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_doctor_on_a_healthy_installation_reports_everything_and_exits_0(tmp_path, api_root):
    root, seen = api_root
    db = tmp_path / "x.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "TELEGRAM_API_URL": root, "TELEGRAM_BOT_TOKEN": TOKEN,
           "CHENGXIN_CALENDAR_FILE": str(calendar_file(tmp_path, next_year=True))}
    assert (await run("db", "upgrade", cwd=tmp_path, env=env))[0] == 0
    code, out, err = await run("doctor", cwd=tmp_path, env=env)
    lines = dict(line[5:].split(": ", 1) for line in out.splitlines() if line[:4] in ("OK  ", "FAIL"))
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    if cjk_font() is None:  # a machine without Chinese fonts: that, and only that, is the problem
        assert code == 1 and [f.split(":")[0] for f in failed] == ["FAIL chart font"], out + err
    else:
        assert code == 0 and failed == [], out + err
    for package in ("python-telegram-bot", "SQLAlchemy", "alembic", "aiosqlite", "holidays", "matplotlib"):
        assert lines[package][0].isdigit()  # a version number
    assert lines["database"] == f"sqlite+aiosqlite:///{db}"
    assert lines["schema"].startswith("revision ") and "newest" in lines["schema"]
    assert "overrides" in lines["calendar"]
    digest = hashlib.sha256(DEFAULT_POLICY_FILE.read_bytes()).hexdigest()
    assert lines["policy"] == f"{DEFAULT_POLICY_FILE} sha256 {digest}"
    assert "chart font" in lines
    assert lines["bot api"].startswith(root) and "HTTP 200" in lines["bot api"]
    assert out.strip().endswith("no problems found" if cjk_font() else "1 problem(s)")
    # The token is neither printed nor sent: the server was asked for its root only.
    assert seen == ["/"]
    assert TOKEN not in out + err and TOKEN.split(":")[1] not in out + err


async def test_doctor_names_each_problem_and_exits_1(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[periods]\nreply_days = -5\n", "utf-8")
    env = {"DATABASE_URL": "postgresql+asyncpg://chengxin:hunter2@127.0.0.1:%d/nowhere" % closed_port(),
           "TELEGRAM_API_URL": f"http://127.0.0.1:{closed_port()}", "TELEGRAM_BOT_TOKEN": TOKEN,
           "CHENGXIN_POLICY_FILE": str(policy),
           "CHENGXIN_CALENDAR_FILE": str(calendar_file(tmp_path, next_year=False))}
    code, out, err = await run("doctor", cwd=tmp_path, env=env)
    assert code == 1 and "Traceback" not in err
    failed = {line[5:].split(": ", 1)[0]: line for line in out.splitlines() if line.startswith("FAIL")}
    assert set(failed) >= {"database", "calendar", "policy", "bot api"}
    assert "cannot connect" in failed["database"] and "hunter2" not in out and "chengxin@" not in out
    assert str(datetime.now(ZoneInfo("Asia/Shanghai")).year + 1) in failed["calendar"] and "调休" in failed["calendar"]
    assert "reply_days" in failed["policy"]
    assert "unreachable" in failed["bot api"]
    assert TOKEN not in out + err


async def test_doctor_on_a_database_behind_the_newest_schema(tmp_path, api_root):
    import sqlite3

    root, _ = api_root
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('0004')")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "TELEGRAM_API_URL": root,
           "CHENGXIN_CALENDAR_FILE": str(calendar_file(tmp_path, next_year=True))}
    code, out, _ = await run("doctor", cwd=tmp_path, env=env)
    assert code == 1
    assert any(line.startswith("FAIL schema: revision 0004, newest is") for line in out.splitlines())


# --- asyncpg is the postgres extra -------------------------------------------------------------------

# As if asyncpg were not installed: the finder says there is no such module.
WITHOUT_ASYNCPG = (
    "import importlib.util\n"
    "_real = importlib.util.find_spec\n"
    "importlib.util.find_spec = lambda n, *a: None if n == 'asyncpg' else _real(n, *a)\n"
)


async def test_a_postgres_url_without_asyncpg_is_one_clear_line(tmp_path):
    env = {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/x"}
    code, out, err = await run("db", "upgrade", cwd=tmp_path, env=env, prelude=WITHOUT_ASYNCPG)
    assert code != 0 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "asyncpg" in err and "chengxin[postgres]" in err


def test_the_database_refuses_a_postgres_url_without_asyncpg(monkeypatch):
    import importlib.util

    from bot.db import drivers
    from bot.db.session import Database

    real = importlib.util.find_spec
    monkeypatch.setattr(drivers.importlib.util, "find_spec", lambda n, *a: None if n == "asyncpg" else real(n, *a))
    with pytest.raises(drivers.MissingDriver, match=r"chengxin\[postgres\]"):
        Database("postgresql+asyncpg://postgres@127.0.0.1:5432/x")
    Database("sqlite+aiosqlite:///:memory:")  # SQLite needs nothing extra


def test_pyproject_keeps_asyncpg_an_extra_and_lxml_out():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = [d.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip() for d in project["dependencies"]]
    assert "asyncpg" not in names and "lxml" not in names
    assert any(d.startswith("asyncpg") for d in project["optional-dependencies"]["postgres"])
    # nothing imports lxml (openpyxl uses it only if present, and the project does not need its speed)
    for path in list(ROOT.glob("bot/**/*.py")) + list(ROOT.glob("nlp/**/*.py")) + list(ROOT.glob("scheduler/*.py")) \
            + list(ROOT.glob("handlers/*.py")):
        assert "import lxml" not in path.read_text("utf-8") and "from lxml" not in path.read_text("utf-8")
