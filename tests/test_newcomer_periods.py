"""Item 6 of issue 15: one period parser (bot.domain.periods) for every command that takes a period."""

from __future__ import annotations

from datetime import date

import pytest

from bot import texts
from bot.domain.errors import InvalidInput
from bot.domain.periods import looks_like_period, parse_month, parse_period
from tests.conftest import SHANGHAI, SUPERVISOR_ID
from tests.flows import file_complaint

TODAY = date(2026, 11, 27)

TABLE = [
    ("", "2026-11-01", "2026-11-30", True),
    ("本月", "2026-11-01", "2026-11-30", True),
    ("这个月", "2026-11-01", "2026-11-30", True),
    ("上月", "2026-10-01", "2026-10-31", True),
    ("上个月", "2026-10-01", "2026-10-31", True),
    ("本季度", "2026-10-01", "2026-12-31", False),
    ("上季度", "2026-07-01", "2026-09-30", False),
    ("今年", "2026-01-01", "2026-12-31", False),
    ("去年", "2025-01-01", "2025-12-31", False),
    ("2026", "2026-01-01", "2026-12-31", False),
    ("2026-11", "2026-11-01", "2026-11-30", True),
    ("2026/11", "2026-11-01", "2026-11-30", True),
    ("2026年11月", "2026-11-01", "2026-11-30", True),
    ("2026年2月", "2026-02-01", "2026-02-28", True),
    ("11月", "2026-11-01", "2026-11-30", True),
    ("12月", "2025-12-01", "2025-12-31", True),           # December has not begun: last year's
    ("2026-11..2026-12", "2026-11-01", "2026-12-31", False),
    ("2026-11 .. 2026-12", "2026-11-01", "2026-12-31", False),
    ("2026年9月至2026年11月", "2026-09-01", "2026-11-30", False),
    ("2026-11-01..2026-11-30", "2026-11-01", "2026-11-30", False),
    ("2026-11-01~2026-11-04", "2026-11-01", "2026-11-04", False),
]


@pytest.mark.parametrize("text,start,end,is_month", TABLE)
def test_every_accepted_form(text, start, end, is_month):
    period = parse_period(text, today=TODAY, tz=SHANGHAI)
    assert (period.start.isoformat(), period.end.isoformat(), period.is_month) == (start, end, is_month)
    assert looks_like_period(text) == bool(text)


@pytest.mark.parametrize("text", ["2026-13", "2026-99", "13月", "下个月", "2026-11-30..2026-11-01",
                                  "2025-01-01..2026-12-31", "财政局", "1999", "2026-02-30..2026-03-01"])
def test_what_is_refused(text):
    with pytest.raises(InvalidInput) as refused:
        parse_period(text, today=TODAY, tz=SHANGHAI)
    assert refused.value.code == "bad_period"
    assert not looks_like_period(text)


def test_the_monthly_workbook_takes_months_only():
    assert parse_month("上个月", today=TODAY, tz=SHANGHAI).label == "2026-10"
    assert parse_month("11月", today=TODAY, tz=SHANGHAI).label == "2026-11"
    for text in ("本季度", "2026-11..2026-12", "今年"):
        with pytest.raises(InvalidInput) as refused:
            parse_month(text, today=TODAY, tz=SHANGHAI)
        assert refused.value.code == "bad_month"


def test_usage_lists_the_forms():
    for form in ("上个月", "本季度", "2026年11月", "2026-11..2026-12", "2026-11-01..2026-11-30", "11月", "今年"):
        assert form in texts.BAD_PERIOD
    assert "上个月" in texts.BAD_MONTH and "2026年11月" in texts.BAD_MONTH


async def test_every_command_that_takes_a_period_accepts_the_words(harness):
    await file_complaint(harness.chat(8601))
    supervisor = harness.supervisor()
    for words in ("上个月", "本季度", "2026-11..2026-12", "2026年11月", "11月", "今年"):
        await supervisor.send(f"/stats {words}")
        text = [c.text for c in harness.request.messages_to(SUPERVISOR_ID) if c.method == "sendMessage"][-1]
        assert "无法识别" not in text, (words, text)
    await supervisor.send("/stats 本季度")
    assert "2026-10-01..2026-12-31" in supervisor.texts()[-2]
    await supervisor.send("/report 上个月")
    assert "2026-10" in supervisor.last().text and "无法识别" not in supervisor.last().text
    await supervisor.send("/report 本季度")
    assert "月度报表按月生成" in supervisor.last().text
    await supervisor.send("/score 上个月")
    assert "2026-10" in supervisor.last().text
    await supervisor.send("/score 市财政局 本季度")
    assert "2026-10-01..2026-12-31" in supervisor.last().text
    await supervisor.send("/cases 本季度")
    assert "2026-10-01..2026-12-31" in supervisor.last().text
    await supervisor.send("/commitments rate 上季度")
    assert "2026-07-01" in supervisor.last().text or texts.RATE_EMPTY in supervisor.last().text
    await supervisor.send("/stats 下个月")
    assert "无法识别时间段" in supervisor.last().text and "上个月" in supervisor.last().text
