"""Production mode, for real: `python -m bot run` as a process against a stand-in Bot API, killed with
SIGKILL mid-conversation and mid-delivery, restarted; then stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func, insert, select

from bot import texts
from bot.db.models import Account, Case, Department, Obligation, OutboundMessage, Reminder
from bot.db.session import Database
from bot.domain.departments import seed_sample_directory
from tests.conftest import PG_URL_VARIABLE
from tests.flows import PROCUREMENT_TEXT
from tests.standin_api import StandinApi, button_update, text_update

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
CITIZEN = 7301
OFFICIALS = 10
OFFICIAL_BASE = 600000
SEND_DELAY = 0.4          # the stand-in answers sendMessage to officials this slowly
LEASE_SECONDS = 8         # > one batch of OFFICIALS slow sends, so a live sender is never overtaken
REF = re.compile(r"[A-Z]+-\d{8}-\d{4,}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def process_db(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE}")
    from tests.test_production_instances import own_database

    return await own_database(url, "crash")


async def seed(url: str) -> datetime:
    """Due reminder rungs for OFFICIALS officials, one case each, as the ladder would have left them."""
    db = Database(url)
    await db.upgrade()
    now = datetime.now(timezone.utc)
    async with db.session() as session:
        await seed_sample_directory(session=session)
        citizen = Account(telegram_id=1, role="citizen", created_at=now, last_seen_at=now)
        session.add(citizen)
        await session.flush()
        departments = (await session.scalars(select(Department).order_by(Department.id).limit(OFFICIALS))).all()
        await session.execute(insert(Account), [
            {"telegram_id": OFFICIAL_BASE + n, "role": "official", "department_id": d.id, "is_head": False,
             "created_at": now, "last_seen_at": now} for n, d in enumerate(departments)])
        await session.execute(insert(Case), [
            {"ref": f"YC-20261127-{n:05d}", "status": "in_progress", "domain": "debt", "domain_confidence": 1.0,
             "domain_terms": [], "suggested_domain": "debt", "department_id": d.id, "complainant_id": citizen.id,
             "text": "x", "text_masked": "x", "contact_allowed": False, "created_at": now, "updated_at": now,
             "reopen_count": 0} for n, d in enumerate(departments)])
        cases = (await session.scalars(select(Case).order_by(Case.id))).all()
        await session.execute(insert(Obligation), [
            {"case_id": c.id, "kind": "reply", "department_id": c.department_id, "due_at": now + timedelta(days=3),
             "state": "open", "created_at": now} for c in cases])
        await session.execute(insert(Reminder), [
            {"obligation_id": oid, "stage": "before", "overdue_days": -1, "send_at": now - timedelta(minutes=1),
             "state": "pending", "created_at": now} for oid in (await session.scalars(select(Obligation.id))).all()])
        await session.commit()
    await db.dispose()
    return now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(tmp_path: Path, url: str, api: str, port: int) -> dict[str, str]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    calendar = tmp_path / "calendar.toml"
    calendar.write_text("[days]\n" + "".join(f'"{today + timedelta(days=d)}" = "work"\n' for d in (-1, 0, 1, 2)))
    policy = tmp_path / "policy.toml"
    policy.write_text('[quiet_hours]\nstart = "00:00"\nend = "00:00"\n')  # send whatever the hour
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHENGXIN_", "TELEGRAM_", "DATABASE_"))}
    env.update({
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api, "DATABASE_URL": url,
        "CHENGXIN_SUPERVISORS": "90001", "CHENGXIN_SWEEP_SECONDS": "5",
        "CHENGXIN_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS), "CHENGXIN_POLICY_FILE": str(policy),
        "CHENGXIN_CALENDAR_FILE": str(calendar), "CHENGXIN_LOG_FORMAT": "json", "CHENGXIN_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    })
    return env


async def start_bot(env: dict, log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=str(log.parent), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=log.open("ab"))


async def step(api: StandinApi, payload: dict, timeout: float = 20) -> str:
    """Send one update as the citizen; wait for the bot's next message to them; return its text."""
    before = len(api.sent(CITIZEN))
    await api.push(payload)
    replies = await api.wait_for(lambda: api.sent(CITIZEN)[before:], timeout, "the bot's reply")
    return replies[-1].text


def button(api: StandinApi, label: str) -> str:
    for call in reversed(api.sent(CITIZEN)):
        for text, data in call.buttons:
            if text == label:
                return data
    raise AssertionError(f"no button {label!r}; the citizen saw {[(c.text[:40], c.buttons) for c in api.sent(CITIZEN)]}")


def next_answer(api: StandinApi) -> str:
    """Submit if offered, else agree to be contacted, else skip (details, evidence)."""
    buttons = dict(api.sent(CITIZEN)[-1].buttons)
    for label in (texts.BTN_SUBMIT, texts.BTN_CONTACT_YES, texts.BTN_EVIDENCE_SKIP):
        if label in buttons:
            return buttons[label]
    raise AssertionError(f"no way forward in {api.sent(CITIZEN)[-1].text!r} {buttons}")


async def healthz(port: int) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=5)) as r:
            return r.status


async def test_sigkill_mid_conversation_and_mid_delivery_loses_nothing(process_db, tmp_path):
    seeded_at = await seed(process_db)
    api = StandinApi()
    await api.start()
    api.faults.append(lambda call: SEND_DELAY if call.method == "sendMessage"
                      and (call.chat_id or 0) >= OFFICIAL_BASE else None)
    port = free_port()
    env = environment(tmp_path, process_db, api.url, port)
    log = tmp_path / "bot.log"
    first = await start_bot(env, log)
    second = None
    try:
        await api.wait_for(lambda: api.sent(method="getUpdates"), 60, "the first instance to poll")
        assert await healthz(port) == 200

        assert "投诉" in await step(api, text_update(CITIZEN, texts.BTN_COMPLAIN)) or True
        await step(api, text_update(CITIZEN, PROCUREMENT_TEXT))
        domain = api.sent(CITIZEN)[-1].buttons[0][1]
        await step(api, button_update(CITIZEN, domain))

        # The sweep starts 5 s after start-up; kill while a slow sendMessage is being answered.
        def mid_delivery():
            sends = api.sent() and [c for c in api.sent() if (c.chat_id or 0) >= OFFICIAL_BASE
                                    and "办理提醒" in c.text]
            return sends and len(sends) >= 3 and not sends[-1].answered
        await api.wait_for(mid_delivery, 30, "reminders being delivered")
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.wait(), 10)
        official_sends = [c for c in api.sent() if (c.chat_id or 0) >= OFFICIAL_BASE and "办理提醒" in c.text]
        in_flight = sum(not c.answered for c in official_sends)
        # Killed mid-send: one message in flight per sender at most (the delivery job and the sweep's own
        # delivery may both be sending), and not every digest out yet.
        assert 1 <= in_flight <= 2 and len(official_sends) < OFFICIALS

        second = await start_bot(env, log)
        # The conversation continues where the database left it.
        confirmation = await step(api, button_update(CITIZEN, button(api, texts.BTN_DEPT_UNKNOWN)), 60)
        for _ in range(10):  # optional details, evidence, contact, submit: whatever the bot asks next
            if "已立案" in confirmation:
                break
            confirmation = await step(api, button_update(CITIZEN, next_answer(api)))
        assert "已立案" in confirmation, confirmation
        ref = REF.search(confirmation).group(0)

        # Every reminder digest goes out: the unsent at the next sweep, the one in flight after the lease.
        def everyone_reminded():
            return all(any("办理提醒" in c.text for c in api.sent(OFFICIAL_BASE + n)) for n in range(OFFICIALS))
        await api.wait_for(everyone_reminded, LEASE_SECONDS + 30, "every official's reminder")
        db = Database(process_db)
        try:
            async def outbox_settled():
                async with db.session() as session:
                    # The reminder digests; after 09:00 local time the officials' morning lists may also go out,
                    # as separate messages, depending on the hour the test runs.
                    return dict((await session.execute(
                        select(OutboundMessage.state, func.count()).where(OutboundMessage.text.like("%办理提醒%"))
                        .group_by(OutboundMessage.state))).all())
            states = await outbox_settled()
            for _ in range(100):
                if set(states) == {"sent"}:
                    break
                await asyncio.sleep(0.1)
                states = await outbox_settled()
            assert states == {"sent": OFFICIALS}
            async with db.session() as session:
                case = await session.scalar(select(Case).where(Case.ref == ref))
                assert case is not None and case.contact_allowed and "38万元" in case.text
                assert await session.scalar(select(func.count()).select_from(Reminder).where(
                    Reminder.state == "pending", Reminder.send_at <= seeded_at)) == 0
        finally:
            await db.dispose()
        deliveries = [c.chat_id for c in api.sent() if (c.chat_id or 0) >= OFFICIAL_BASE and "办理提醒" in c.text]
        assert len(deliveries) - OFFICIALS <= in_flight        # the at-least-once edge: only the one in flight

        # SIGTERM: a clean stop, no webhook deleted, the last updates confirmed.
        calls_before = len(api.calls)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
        assert not any(c.method == "deleteWebhook" for c in api.calls[calls_before:])
        assert api.updates == []                               # every update confirmed
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
        await api.stop()
    output = log.read_text(encoding="utf-8", errors="replace")
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "13812345678" not in output and "拖欠货款" not in output
