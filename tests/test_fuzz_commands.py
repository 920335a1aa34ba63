"""Hostile input through every command of the table, in the role that has it, and through the complaint
conversation: no ERROR log, no traceback, a polite answer, and no case, event or commitment changed."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from bot import texts
from bot.db.models import Case, CaseEvent, Commitment, Invite
from handlers import commands
from tests.flows import bind_official, file_complaint

HOSTILE = [
    "99999999999999999999", "²³¹", "１２３４５６", "\u202eYC-20261127-0001", "YC\u200b-20261127-0001", "😀" * 12,
    "x" * 5000, "2026年2月30日", "YC-99999999-9999", "CN-2026-99999", "<b>粗体</b>&amp;", "'; DROP TABLE cases;--",
    "-1", "0", "a\x00b", "99999999个工作日内 付款", "一亿亿亿亿亿亿亿亿亿亿亿元", "%s%s%s{0}{ref}", "\\n\\t", "١٢٣",
]
# Commands whose purpose is to change something for the caller, with any text: they may add a draft or
# a supplement of the caller's own, never a case, an event or a commitment of anyone.
SAFE_TO_CHANGE = {"complain", "bind"}


async def counts(harness) -> tuple[int, int, int, int]:
    async with harness.session() as session:
        return tuple([await session.scalar(select(func.count()).select_from(model))
                      for model in (Case, CaseEvent, Commitment, Invite)])


async def test_every_command_with_hostile_arguments(harness, caplog):
    citizen = harness.chat(8901)
    await file_complaint(citizen)
    people = {commands.CITIZEN: citizen, commands.OFFICIAL: await bind_official(harness, 8902),
              commands.SUPERVISOR: harness.supervisor()}
    before = await counts(harness)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for command in commands.TABLE:
            person = people[command.roles[0]]
            for argument in HOSTILE:
                sent = len(person.texts())
                await person.send(f"/{command.name} {argument}")
                assert len(person.texts()) > sent, (command.name, argument)
                assert texts.ERROR_GENERIC not in person.last().text, (command.name, argument)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors][:5]
    assert "Traceback" not in caplog.text
    assert await counts(harness) == before


async def test_hostile_complaint_texts_get_a_polite_answer(harness, caplog):
    citizen = harness.chat(8903)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for text in HOSTILE + [t * 3 for t in HOSTILE[:10]]:
            await citizen.send("/cancel")
            sent = len(citizen.texts())
            await citizen.send(text)
            assert len(citizen.texts()) > sent, text
            assert texts.ERROR_GENERIC not in citizen.last().text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
