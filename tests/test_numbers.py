"""One reader of numbers (nlp/numbers.py) for every place the project reads one: amounts in complaints,
the amount follow-up answer and the commitment register, and counts in due dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain.commitments import parse_amount
from bot.domain.dates import parse_due_date
from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar
from nlp.extract import cn_to_int, extract_amounts, extract_dates
from nlp.numbers import MAX_AMOUNT_YUAN, NumberTooLarge, parse_number

D = Decimal
FORMS = [
    # plain Chinese numerals
    ("零", D(0)), ("一", D(1)), ("十", D(10)), ("十五", D(15)), ("二十", D(20)), ("三十一", D(31)),
    ("九十九", D(99)), ("一百", D(100)), ("两百", D(200)), ("一百二十", D(120)), ("一百零五", D(105)),
    ("一千零五", D(1005)), ("一千二百万", D(12_000_000)), ("一亿二千万", D(120_000_000)),
    ("十万", D(100_000)), ("一万亿", D(10**12)), ("一亿零五", D(100_000_005)),
    # shorthand: a trailing digit is the next unit down
    ("一万二", D(12_000)), ("三万五", D(35_000)), ("两千五", D(2_500)), ("一百五", D(150)),
    # 廿 卅 卌, 两 俩, financial (大写) numerals, traditional 萬 億
    ("廿", D(20)), ("廿五", D(25)), ("卅", D(30)), ("卌", D(40)), ("俩", D(2)), ("壹佰贰拾", D(120)),
    ("叁仟", D(3000)), ("伍萬", D(50_000)), ("貳億", D(200_000_000)),
    # digit by digit
    ("二〇二三", D(2023)), ("一九九八", D(1998)),
    # Arabic digits, full-width, separators, decimals, mixed with Chinese units
    ("120", D(120)), ("１２０", D(120)), ("１２０万", D(1_200_000)), ("1,200,000", D(1_200_000)),
    ("3千", D(3000)), ("120万", D(1_200_000)), ("1.2亿", D(120_000_000)), ("3.5万亿", D(3_500_000_000_000)),
    ("0.5万", D(5000)), ("3万5", D(35_000)),
    # 点 decimals, percentages
    ("一点五", D("1.5")), ("一点五亿", D(150_000_000)), ("三点一四", D("3.14")),
    ("百分之五", D("0.05")), ("百分之十五点五", D("0.155")), ("5%", D("0.05")), ("５％", D("0.05")),
    ("百分之一百", D(1)),
    # spaces as phones put them
    ("1 200", D(1200)), (" 一百 ", D(100)), ("3 4万", D(340_000)), ("点五", D("0.5")),
]


@pytest.mark.parametrize(("text", "value"), FORMS, ids=[f[0] for f in FORMS])
def test_number_forms(text, value):
    assert parse_number(text) == value


def test_the_table_is_long_enough():
    assert len(FORMS) >= 40


@pytest.mark.parametrize("text", ["", "abc", "万一", "一二三四五六七八九十百千", "百分之", "元", "3+4", "1.2.3"])
def test_not_numbers(text):
    assert parse_number(text) is None or text in ("万一",)  # 万一 is read by context (extraction), never here


def test_too_large_is_refused_before_the_arithmetic():
    with pytest.raises(NumberTooLarge):
        parse_number("一" + "亿" * 150)  # 10^1200
    with pytest.raises(NumberTooLarge):
        parse_number("9" * 5000)  # past Python's int() digit limit too
    with pytest.raises(NumberTooLarge):
        cn_to_int("一" * 30)


@pytest.mark.parametrize(("text", "yuan"), [
    ("拖欠工程款一千二百万元", D(12_000_000)), ("欠款1.2亿", D(120_000_000)), ("120万元", D(1_200_000)),
    ("一万二元", D(12_000)), ("３８０万元", D(3_800_000)), ("廿万元", D(200_000)), ("两百块", D(200)),
    ("3千元", D(3000)), ("共计壹佰贰拾万元", D(1_200_000)),
])
def test_extraction_reads_amounts_with_the_same_reader(text, yuan):
    assert [a.value_yuan for a in extract_amounts(text)] == [yuan]


@pytest.mark.parametrize(("text", "days"), [
    ("三十个工作日内", None), ("廿个工作日", None), ("十五天内", 15), ("两周内", 14), ("一百天内", 100),
    ("１５天内", 15),
])
def test_due_dates_read_counts_with_the_same_reader(text, days):
    today = date(2026, 11, 27)
    calendar = WorkCalendar()
    due = parse_due_date(text, today=today, calendar=calendar)
    if days is None:
        n = parse_number(text.replace("个工作日内", "").replace("个工作日", ""))
        assert calendar.working_days_between(today, due) == n
    else:
        assert (due - today).days == days


def test_relative_dates_in_complaints_read_counts_with_the_same_reader():
    today = date(2026, 11, 27)
    assert [m.value for m in extract_dates("廿天前", today)] == [date(2026, 11, 7)]
    assert [m.value for m in extract_dates("三十天前", today)] == [date(2026, 10, 28)]


@pytest.mark.parametrize(("text", "value"), [
    ("500万元", D("5000000.00")), ("1200000", D("1200000.00")), ("1.5亿", D("150000000.00")),
    ("10000000000000", D("10000000000000.00")), ("10万亿元", D("10000000000000.00")),
])
def test_register_amounts_up_to_the_cap(text, value):
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["10000000000000.01", "10000000000001", "11万亿元", "一" + "亿" * 150 + "元",
                                  "9" * 5000, "一亿亿元"])
def test_register_amounts_over_the_cap_are_refused_politely(text):
    with pytest.raises(InvalidInput) as refused:
        parse_amount(text)
    assert refused.value.code == "amount_too_large"
    assert MAX_AMOUNT_YUAN == D(10) ** 13
