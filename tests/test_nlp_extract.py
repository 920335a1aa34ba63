"""nlp.extract: amounts, dates and court case numbers in complaint text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from nlp.extract import cn_to_int, extract_amounts, extract_case_number, extract_case_numbers, extract_dates

TODAY = date(2025, 6, 10)


def amounts(text: str) -> list[tuple[Decimal, str, bool]]:
    return [(a.value_yuan, a.raw, a.approximate) for a in extract_amounts(text)]


@pytest.mark.parametrize(
    "text,value,raw,approx",
    [
        ("合同金额380万元，一直没付", Decimal(3_800_000), "380万元", False),
        ("还欠我们38万", Decimal(380_000), "38万", False),
        ("货款1200000元至今未付", Decimal(1_200_000), "1200000元", False),
        ("拖欠二十多万不给", Decimal(200_000), "二十多万", True),
        ("项目总投资1.5亿", Decimal(150_000_000), "1.5亿", False),
        ("被罚了5千元", Decimal(5000), "5千元", False),
        ("收了￥3,800的好处费", Decimal(3800), "￥3,800", False),
        ("欠款八百万元", Decimal(8_000_000), "八百万元", False),
        ("还差三万五没结", Decimal(35_000), "三万五", False),
        ("100余万元的工程款", Decimal(1_000_000), "100余万元", True),
        ("尾款12,345.67元", Decimal("12345.67"), "12,345.67元", False),
        ("欠了兩千塊", Decimal(2000), "兩千塊", False),  # traditional
        ("大概38w", Decimal(380_000), "38w", False),
    ],
)
def test_amounts(text, value, raw, approx) -> None:
    found = extract_amounts(text)
    assert [(a.value_yuan, a.raw, a.approximate) for a in found] == [(value, raw, approx)]
    assert text[found[0].start:].startswith(raw)


def test_several_amounts_in_order() -> None:
    text = "合同380万元，付了120万，还欠260万元"
    assert [a.value_yuan for a in extract_amounts(text)] == [Decimal(3_800_000), Decimal(1_200_000), Decimal(2_600_000)]


@pytest.mark.parametrize(
    "text",
    [
        "我的电话13812345678，打过来",  # mobile
        "身份证号320902199001011234",  # ID card
        "座机0515-88881234",  # landline
        "（2023）苏0902执1234号",  # case number
        "2023年3月15日交货",  # a date
        "我们有5千人在园区上班",  # counted people
        "征了三万平方米的地",  # area
        "万一他们不给怎么办",  # 万一 is not ten thousand
        "一千多个日日夜夜",
        "",
    ],
)
def test_not_amounts(text) -> None:
    assert extract_amounts(text) == []


def test_cn_numerals() -> None:
    assert cn_to_int("一百二十万") == 1_200_000
    assert cn_to_int("两千五") == 2500
    assert cn_to_int("十五") == 15
    assert cn_to_int("一亿二千万") == 120_000_000
    assert cn_to_int("二〇二三") == 2023
    assert cn_to_int("一千零五") == 1005
    assert cn_to_int("abc") is None


def dates(text: str):
    return [(m.value, m.raw, m.approximate) for m in extract_dates(text, TODAY)]


@pytest.mark.parametrize(
    "text,value,raw,approx",
    [
        ("说好2022年底结清", date(2022, 12, 31), "2022年底", True),
        ("去年8月签的合同", (2024, 8), "去年8月", False),
        ("2023年3月15日交付", date(2023, 3, 15), "2023年3月15日", False),
        ("2023-03-15验收", date(2023, 3, 15), "2023-03-15", False),
        ("2023/3/5验收", date(2023, 3, 5), "2023/3/5", False),
        ("2021年5月就完工了", (2021, 5), "2021年5月", False),
        ("去年底说给钱", date(2024, 12, 31), "去年底", True),
        ("二〇二三年三月十五日签约", date(2023, 3, 15), "二〇二三年三月十五日", False),
        ("3月15号去的", date(2025, 3, 15), "3月15号", False),
        ("12月5号去的", date(2024, 12, 5), "12月5号", False),  # later than today -> last year
        ("昨天又去问了", date(2025, 6, 9), "昨天", False),
        ("三个月前交的材料", (2025, 3), "三个月前", True),
        ("今年初答应的", date(2025, 1, 1), "今年初", True),
        ("2022年的项目", (2022, None), "2022年", False),
    ],
)
def test_dates(text, value, raw, approx) -> None:
    found = extract_dates(text, TODAY)
    assert [(m.value, m.raw, m.approximate) for m in found] == [(value, raw, approx)]
    assert text[found[0].start:].startswith(raw)
    assert found[0].is_partial == (not isinstance(value, date))


@pytest.mark.parametrize("text", ["电话13812345678", "（2023）苏0902执1234号", "2023年2月30日", "欠了38万", "13月5日"])
def test_not_dates(text) -> None:
    assert extract_dates(text, TODAY) == []


def test_case_numbers() -> None:
    c = extract_case_number("我们的案号是（2023）苏0902执1234号，法院说执行不了")
    assert c is not None
    assert (c.raw, c.year, c.court, c.kind, c.seq) == ("（2023）苏0902执1234号", 2023, "苏0902", "执", 1234)
    assert c.start == 6
    c2 = extract_case_number("(2022)苏09民终567号判决生效")
    assert (c2.year, c2.court, c2.kind, c2.seq) == (2022, "苏09", "民终", 567)
    assert c2.normalized == "（2022）苏09民终567号"
    both = extract_case_numbers("一审（2021）苏0902民初88号，二审(2022)苏09民终567号")
    assert [c.seq for c in both] == [88, 567]
    assert extract_case_number("电话13812345678，2023年") is None
    assert extract_case_number("") is None
