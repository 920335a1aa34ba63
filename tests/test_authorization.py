"""Every command and button, tried by every role: exactly the intended ones succeed, and a refusal
reveals nothing about the case."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.db.models import CaseEvent, Commitment, Extension, Reply, Supplement
from tests.flows import (
    PROCUREMENT_TEXT, accepted_case, assigned_case, bind_official, case_by_ref, rectified_case, regional_supervisor,
)

# "regional" is a supervisor of another region (tinghu) than the case's department (city): refused like a stranger.
ROLES = ("complainant", "official", "other_official", "supervisor", "regional", "stranger")


@dataclass(frozen=True)
class Action:
    name: str
    state: str            # what the case must be like first: assigned | accepted | rectified
    send: str             # command text or "press:<callback data>"
    allowed: frozenset[str]


def action(name, state, send, *allowed):
    return Action(name, state, send, frozenset(allowed))


ACTIONS = [
    action("status", "assigned", "/status {ref}", "complainant", "official", "supervisor"),
    action("case", "assigned", "/case {ref}", "official", "supervisor"),
    action("supplement", "assigned", "/supplement {ref} 又想起一件事", "complainant"),
    action("withdraw", "assigned", "press:wdy:{ref}", "complainant"),
    action("assign", "assigned", "/assign {ref} 亭湖区财政局", "supervisor"),
    action("accept", "assigned", "press:acc:{ref}", "official"),
    action("dispute", "assigned", "/dispute {ref} 不是我们的事", "official"),
    action("reply", "accepted", "/reply {ref} 已经在办", "official"),
    action("commit", "accepted", "/commit {ref} 2026年12月31日 付款", "official"),
    action("extend", "accepted", "/extend {ref} 2027年2月26日 审批慢", "official"),
    action("rectified", "accepted", "/rectified {ref} 已付款", "official"),
    action("verify", "rectified", "/verify {ref} 属实", "supervisor"),
    action("tolerate", "rectified", "/tolerate {ref} 主动纠正", "supervisor"),
    action("reopen", "rectified", "/reopen {ref} 凭证不全", "supervisor"),
    action("reject", "assigned", "/reject {ref} 重复投诉", "supervisor"),
]


async def side_effects(harness, ref) -> tuple:
    """Everything an action could change: status, department, the audit log and the content tables."""
    case = await case_by_ref(harness, ref)
    async with harness.session() as session:
        counts = []
        for model in (CaseEvent, Reply, Commitment, Extension, Supplement):
            counts.append(await session.scalar(select(func.count()).select_from(model)))
    return case.status, case.department_id, tuple(counts)


@pytest.mark.parametrize("act", ACTIONS, ids=[a.name for a in ACTIONS])
async def test_only_the_intended_roles_succeed(harness, act):
    complainant = harness.chat(8001, first_name="吴", last_name="投诉人", username="wu_tousu")
    official = await bind_official(harness, 8101)
    other_official = await bind_official(harness, 8102, department="亭湖区住房和城乡建设局")
    people = {"complainant": complainant, "official": official, "other_official": other_official,
              "supervisor": harness.supervisor(), "regional": await regional_supervisor(harness, 8201, "tinghu"),
              "stranger": harness.chat(8003)}
    if act.state == "assigned":
        ref = await assigned_case(harness, complainant)
    elif act.state == "accepted":
        ref = await accepted_case(harness, complainant, official)
    else:
        ref = await rectified_case(harness, complainant, official)

    for role in ROLES:
        if role in act.allowed:
            continue
        person = people[role]
        before = await side_effects(harness, ref)
        seen = len(harness.request.calls)
        await _do(person, act, ref)
        assert await side_effects(harness, ref) == before, f"{role} changed the case with {act.name}"
        answers = [str(c.params) for c in harness.request.calls[seen:]]
        assert answers, f"{role} got no answer to {act.name}"
        for text in answers:
            assert "采购人一直拖欠" not in text and "吴" not in text and "wu_tousu" not in text, (role, text)

    for role in sorted(act.allowed):
        before = await side_effects(harness, ref)
        await _do(people[role], act, ref)
        assert await side_effects(harness, ref) != before or act.name in ("status", "case"), \
            f"{role} could not {act.name}"
        if act.name in ("status", "case"):
            assert ref in people[role].last().text and "采购人一直拖欠" in people[role].last().text
    for call in harness.request.calls:
        if call.chat_id in (official.user_id, other_official.user_id, people["regional"].user_id):
            assert "13812345678" not in str(call.params) and "wu_tousu" not in str(call.params)


async def _do(person, act: Action, ref: str) -> None:
    command = act.send.format(ref=ref)
    if command.startswith("press:"):
        await person.press(command[len("press:"):])
    else:
        await person.send(command)


def test_the_matrix_covers_every_case_command(tmp_path):
    """Every case command the Application answers (each feature module registers its own) is in the matrix."""
    from telegram.ext import CommandHandler

    from bot.app import build_application
    from bot.simulator import LocalRequest
    from tests.conftest import make_settings

    app = build_application(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"), request=LocalRequest())
    registered = {command for handlers in app.handlers.values() for handler in handlers
                  if isinstance(handler, CommandHandler) for command in handler.commands}
    case_commands = {"status", "case", "supplement", "assign", "dispute", "reply", "commit", "extend",
                     "rectified", "verify", "tolerate", "reopen", "reject"}
    assert case_commands <= registered, case_commands - registered
    assert case_commands <= {a.name for a in ACTIONS}
    assert PROCUREMENT_TEXT  # the text the refusals must not reveal
