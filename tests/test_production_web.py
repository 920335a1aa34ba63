"""Production mode, web side: the webhook with its secret token, /healthz, /metrics, JSON logs."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bot import texts
from bot.clock import FrozenClock
from bot.logs import JsonFormatter, RedactSecrets, WorkContext
from bot.web.server import SECRET_HEADER, web_app
from tests.conftest import START, make_settings, start_harness, stop_harness
from tests.flows import PROCUREMENT_TEXT
from tests.standin_api import button_update, text_update

SECRET = "s3cret-Token_for-tests"
_ids = itertools.count(1_000)


def update(payload: dict) -> dict:
    return {"update_id": next(_ids), **payload}


@pytest.fixture
async def served(database_url, classifier):
    """A running Application (update queue consumed) behind the aiohttp app, on 127.0.0.1, random port."""
    harness = await start_harness(make_settings(database_url, CHENGXIN_WEBHOOK_SECRET=SECRET), classifier,
                                  FrozenClock(START))
    await harness.app.start()
    client = TestClient(TestServer(web_app(harness.app, webhook_path="/tg", secret=SECRET), host="127.0.0.1"))
    await client.start_server()
    try:
        yield harness, client
    finally:
        await client.close()
        if harness.app.running:
            await harness.app.stop()
        await stop_harness(harness)


async def post(client, payload: dict, secret: str | None = SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await asyncio.wait_for(client.post("/tg", json=payload, headers=headers), 20)


async def test_webhook_takes_updates_only_with_the_secret_token(served):
    harness, client = served
    assert (await post(client, update(text_update(4101, "/start")), secret=None)).status == 403
    assert (await post(client, update(text_update(4101, "/start")), secret="wrong")).status == 403
    assert (await post(client, update(text_update(4101, "/start")), secret=SECRET + "x")).status == 403
    assert harness.request.sent(method="sendMessage") == []          # nothing happened

    response = await post(client, update(text_update(4101, "/start")))
    assert response.status == 200                                    # answered once handled
    assert harness.request.messages_to(4101)
    assert (await client.post("/tg", data=b"not json", headers={SECRET_HEADER: SECRET})).status == 400


async def test_a_complaint_through_the_webhook(served):
    harness, client = served
    user = 4102
    await post(client, update(text_update(user, texts.BTN_COMPLAIN)))
    await post(client, update(text_update(user, PROCUREMENT_TEXT)))
    await post(client, update(button_update(user, harness.request.last_to(user).buttons[0][1])))
    labels = (texts.BTN_SUBMIT, texts.BTN_CONTACT_YES, texts.BTN_EVIDENCE_SKIP)
    await post(client, update(button_update(user, dict(harness.request.last_to(user).buttons)[texts.BTN_DEPT_UNKNOWN])))
    for _ in range(10):  # optional details, evidence, contact, submit: whatever the bot asks next
        if "已立案" in harness.request.last_to(user).text:
            break
        buttons = dict(harness.request.last_to(user).buttons)
        data = next(buttons[label] for label in labels if label in buttons)
        assert (await post(client, update(button_update(user, data)))).status == 200
    assert "已立案" in harness.request.last_to(user).text


async def test_healthz_follows_the_database(served):
    harness, client = served
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert {k: v for k, v in body.items() if k != "calendar"} == {"status": "ok", "application": "running",
                                                                   "database": "ok"}
    assert "calendar" in body  # "ok", or the missing year's 调休 (tests/test_calendar_coverage.py)

    db = harness.services.db
    working, sessions, reading, read_sessions = db.engine, db.sessions, db.read_engine, db.read_sessions
    await working.dispose()
    await reading.dispose()
    db.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none" if not db.is_sqlite
                                    else "sqlite+aiosqlite:////nonexistent-chengxin-dir/broken.db")
    db.sessions = async_sessionmaker(db.engine)
    db.read_engine, db.read_sessions = db.engine, db.sessions  # the metrics' counts use a read session
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"
        metrics = await (await client.get("/metrics")).text()
        assert "chengxin_database_up 0.0" in metrics
    finally:
        await db.engine.dispose()
        db.engine, db.sessions, db.read_engine, db.read_sessions = working, sessions, reading, read_sessions
    assert (await client.get("/healthz")).status == 200

    await harness.app.stop()
    response = await client.get("/healthz")
    assert response.status == 503 and (await response.json())["application"] == "stopped"


def sample(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") and line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_metrics_count_what_happened(served):
    harness, client = served
    user = 4103
    await post(client, update(text_update(user, "/start")))
    await post(client, update(text_update(user, "/help")))
    await post(client, update(button_update(user, "zz:unknown")))
    harness.request.faults.append(lambda call: (500, {"ok": False, "error_code": 500,
                                                      "description": "Internal Server Error"})
                                  if call.method == "sendMessage" else None)
    await post(client, update(text_update(user, "/start")))           # the reply fails: one error
    harness.request.faults.clear()

    response = await client.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    metrics = await response.text()
    assert sample(metrics, 'chengxin_updates_handled_total{type="message"}') == 3
    assert sample(metrics, 'chengxin_updates_handled_total{type="callback_query"}') == 1
    assert sample(metrics, "chengxin_update_seconds_count") == 4
    assert sample(metrics, 'chengxin_errors_total{kind="telegram",source="update"}') == 1
    assert sample(metrics, "chengxin_database_up") == 1
    assert sample(metrics, 'chengxin_outbound_messages{state="pending"}') == 0
    assert sample(metrics, "chengxin_outbound_oldest_pending_seconds") == 0
    assert "chengxin_cases{" not in metrics                           # no case yet, no series


async def test_metrics_read_cases_and_owed_messages(served):
    from bot.domain import outbox
    from tests.flows import file_complaint

    harness, client = served
    await file_complaint(harness.chat(4104))
    async with harness.session() as session:
        outbox.enqueue(session=session, chat_id=1, account_id=None, kind="digest", text="x",
                       now=harness.clock.now())
        await session.commit()
    harness.clock.advance(minutes=5)
    metrics = await (await client.get("/metrics")).text()
    statuses = {line.split('"')[1]: float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith("chengxin_cases{")}
    assert sum(statuses.values()) == 1
    assert sample(metrics, 'chengxin_outbound_messages{state="pending"}') == 1
    assert sample(metrics, "chengxin_outbound_oldest_pending_seconds") == 300


async def test_json_log_lines_carry_the_update_id_and_no_personal_data(served):
    harness, client = served
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(harness.app.bot.token, SECRET))
    handler.addFilter(RedactSecrets(harness.app.bot.token, SECRET))
    handler.addFilter(WorkContext())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        harness.request.faults.append(lambda call: (500, {"ok": False, "error_code": 500,
                                                          "description": "Internal Server Error"})
                                      if call.method == "sendMessage" else None)
        payload = update(text_update(4105, texts.BTN_COMPLAIN))
        await post(client, payload)
        await post(client, update(text_update(4105, PROCUREMENT_TEXT)))
        await post(client, update(text_update(4105, "/start")), secret="wrong-" + SECRET)
    finally:
        root.removeHandler(handler)
        harness.request.faults.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [line for line in lines if line["message"].startswith("update ")]
    assert failed and failed[0]["update_id"] == payload["update_id"] and failed[0]["level"] == "ERROR"
    rejected = [line for line in lines if "rejected" in line["message"]]
    assert rejected and "update_id" not in rejected[0]
    everything = stream.getvalue()
    assert harness.app.bot.token not in everything and SECRET not in everything
    assert "13812345678" not in everything and "拖欠货款" not in everything


async def test_a_button_press_by_webhook_is_answered_in_the_webhooks_response(served):
    """One round trip less per press: answerCallbackQuery rides on the 200, and no call is made for it."""
    harness, client = served
    user = 4103
    await post(client, update(text_update(user, PROCUREMENT_TEXT)))
    press = update(button_update(user, harness.request.last_to(user).buttons[0][1]))
    response = await post(client, press)
    assert response.status == 200
    body = await response.json()
    assert body == {"method": "answerCallbackQuery", "callback_query_id": press["callback_query"]["id"]}
    assert harness.request.sent(method="answerCallbackQuery") == []
    assert "哪个部门" in harness.request.last_to(user).text       # the step itself was done

    stale = update(button_update(user, "c:999999:dom:debt"))          # an old button: the alert rides too
    body = await (await post(client, stale)).json()
    assert body["method"] == "answerCallbackQuery" and body["show_alert"] is True and body["text"]
    assert harness.request.sent(method="answerCallbackQuery") == []
