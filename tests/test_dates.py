"""Due dates typed on a phone: Chinese and ISO forms, periods in working days, relative days."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.dates import DateProblem, parse_due_date, split_date_and_text
from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar

CAL = WorkCalendar.china()
TODAY = date(2026, 9, 15)  # a Tuesday, before Mid-Autumn and National Day


def parse(text: str, today: date = TODAY, **kw) -> date:
    return parse_due_date(text, today=today, calendar=CAL, **kw)


def problem(text: str, today: date = TODAY, **kw) -> DateProblem:
    with pytest.raises(DateProblem) as info:
        parse(text, today, **kw)
    return info.value


@pytest.mark.parametrize("text", [
    "2026年12月31日", "2026年12月31号", "2026年12月31", "2026-12-31", "2026/12/31", "2026.12.31",
    "2026 年 12 月 31 日", "２０２６年１２月３１日", "２０２６－１２－３１", "2026年12月31日前",
    "2026年12月31日之前", "2026年12月31日以前", "于2026年12月31日前", "12月31日", "12月31号",
    "12月31日前", "12月31日之前", "12月31日以前", "12-31", "12/31", "１２月３１日前", "十二月三十一日",
    "今年12月31日", "年底", "今年年底", "今年底", "年底前",
])
def test_the_last_day_of_the_year(text):
    assert parse(text) == date(2026, 12, 31)


@pytest.mark.parametrize("text, expected", [
    # working days: 16–18 Sep, Sun 20 Sep (调休), 21–24, (25 中秋), 28–30 = 11; Oct 8, 9, Sat 10 (调休) …
    ("1个工作日内", date(2026, 9, 16)),
    ("4个工作日", date(2026, 9, 20)),
    ("十个工作日内", date(2026, 9, 29)),
    ("十一个工作日内", date(2026, 9, 30)),
    ("十二个工作日", date(2026, 10, 8)),
    ("14个工作日以内", date(2026, 10, 10)),
    ("30个工作日内", date(2026, 11, 2)),
    ("三十个工作日内", date(2026, 11, 2)),
    ("３０个工作日内", date(2026, 11, 2)),
    ("30 个 工作日 内", date(2026, 11, 2)),
    ("15天内", date(2026, 9, 30)),
    ("15日内", date(2026, 9, 30)),
    ("十五天", date(2026, 9, 30)),
    ("九十九天内", date(2026, 12, 23)),
    ("两周内", date(2026, 9, 29)),
    ("3个月内", date(2026, 12, 15)),
    ("今天", date(2026, 9, 15)),
    ("明天", date(2026, 9, 16)),
    ("后天", date(2026, 9, 17)),
    ("大后天", date(2026, 9, 18)),
    ("周五", date(2026, 9, 18)),
    ("星期五", date(2026, 9, 18)),
    ("礼拜五", date(2026, 9, 18)),
    ("周二", date(2026, 9, 15)),  # today counts as the next occurrence
    ("周一", date(2026, 9, 21)),
    ("周日", date(2026, 9, 20)),
    ("星期天", date(2026, 9, 20)),
    ("本周五", date(2026, 9, 18)),
    ("这周五", date(2026, 9, 18)),
    ("这个周五前", date(2026, 9, 18)),
    ("下周五", date(2026, 9, 25)),
    ("下个星期一", date(2026, 9, 21)),
    ("下下周三", date(2026, 9, 30)),
    ("月底", date(2026, 9, 30)),
    ("本月底", date(2026, 9, 30)),
    ("月底前", date(2026, 9, 30)),
    ("下月底", date(2026, 10, 31)),
    ("下个月底", date(2026, 10, 31)),
    ("明年年底", date(2027, 12, 31)),
    ("明年3月1日", date(2027, 3, 1)),
    ("20号", date(2026, 9, 20)),
    ("本月20日前", date(2026, 9, 20)),
    ("下月5号", date(2026, 10, 5)),
    ("10月8日", date(2026, 10, 8)),
    ("10.8", date(2026, 10, 8)),
    ("9月15日", date(2026, 9, 15)),  # today is allowed
])
def test_forms(text, expected):
    assert parse(text) == expected


def test_weekday_words_follow_today():
    friday = date(2026, 3, 13)
    assert parse("周一", friday) == date(2026, 3, 16)
    assert parse("本周日", friday) == date(2026, 3, 15)
    assert parse("下周一", friday) == date(2026, 3, 16)
    assert parse("下周五", friday) == date(2026, 3, 20)


def test_month_end_in_february_and_december():
    assert parse("月底", date(2026, 2, 10)) == date(2026, 2, 28)
    assert parse("下月底", date(2026, 12, 10)) == date(2027, 1, 31)
    assert parse("月底", date(2028, 2, 1)) == date(2028, 2, 29)


def test_past_dates():
    for text in ("2026-09-14", "2025年12月31日", "本周一", "这周一", "本月1日"):
        err = problem(text)
        assert err.code == "date_past", text
        assert err.params["text"] == text and err.params["example"]


def test_past_month_day_without_year_is_ambiguous():
    err = problem("3月1日")
    assert err.code == "date_ambiguous"
    assert err.params["text"] == "3月1日"
    assert err.params["example"] == "2027年3月1日"
    assert problem("9-14").code == "date_ambiguous"
    assert problem("10号").code == "date_ambiguous"  # the 10th, already past this month


def test_too_far():
    err = problem("2030年1月1日")
    assert err.code == "date_too_far" and err.params["max_days"] == 3 * 365
    assert problem("100天内", max_days=30).code == "date_too_far"
    assert parse("30天内", max_days=30) == date(2026, 10, 15)


@pytest.mark.parametrize("text", [
    "", "   ", "尽快", "abc", "2026-02-30", "13月1日", "2月30日", "0个工作日内", "零天内",
    "12月31日完成", "周八", "2026-12", "31/12/2026", "下周", "工作日内", "12月31日后",
])
def test_unreadable(text):
    err = problem(text)
    assert err.code == "date_unreadable"
    assert err.params["text"] == text and "年" in err.params["example"]


def test_problem_is_an_invalid_input():
    assert issubclass(DateProblem, InvalidInput)


@pytest.mark.parametrize("args, expected", [
    ("2026年12月31日前 完成工程款支付", ("2026年12月31日前", "完成工程款支付")),
    ("2026年12月31日前完成工程款支付", ("2026年12月31日前", "完成工程款支付")),
    ("30个工作日内 完成整改", ("30个工作日内", "完成整改")),
    ("30个工作日内完成整改", ("30个工作日内", "完成整改")),
    ("12月31日前 完成", ("12月31日前", "完成")),
    ("下周五，提交材料", ("下周五", "提交材料")),
    ("１２月３１日前　完成", ("１２月３１日前", "完成")),
    ("十个工作日内答复", ("十个工作日内", "答复")),
    ("15日内回复", ("15日内", "回复")),
    ("明天", ("明天", "")),
    ("  月底前 清退保证金 ", ("月底前", "清退保证金")),
    ("完成工程款支付", ("", "完成工程款支付")),
    ("尽快 完成", ("", "尽快 完成")),
    ("", ("", "")),
])
def test_split_date_and_text(args, expected):
    assert split_date_and_text(args) == expected


def test_split_part_parses():
    date_part, rest = split_date_and_text("30个工作日内完成整改")
    assert parse(date_part) == date(2026, 11, 2) and rest == "完成整改"
