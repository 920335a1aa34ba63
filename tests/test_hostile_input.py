"""Bounded input: hostile text (huge numbers, odd digits, full-width, emoji, bidi overrides, zero-width
characters, 4,096+ characters, impossible dates) through the date parser, the number and amount readers
and extraction gives a polite refusal at worst, quickly; through the bot, a polite reply and no row."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.db.models import Case, Commitment
from bot.domain.commitments import parse_amount
from bot.domain.dates import DateProblem, parse_due_date, split_date_and_text
from bot.domain.details import FIELDS, parse_answer, prefill
from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar
from nlp.extract import extract_amounts, extract_case_numbers, extract_dates, oversized_amounts
from nlp.numbers import MAX_AMOUNT_YUAN, NumberTooLarge, cn_to_int, parse_number
from tests.flows import accepted_case, bind_official, skip_details

TODAY = date(2026, 11, 27)
SHANGHAI = ZoneInfo("Asia/Shanghai")

HUGE = (["9" * n for n in (10, 19, 20, 25, 26, 40, 100, 1000, 4300, 4301, 5000)]
        + ["一" + "亿" * k for k in (2, 3, 4, 150, 600)]
        + ["十" * 1000, "千" * 500, "万" * 2000, "零" * 3000, "一" * 30, "九" * 4097, "1e999", "1E+1000", "NaN",
           "Infinity", "-1", "-99999999", "0", "00000000000000000001", "1." + "0" * 5000, "0." + "9" * 5000,
           "1,000,000,000,000,000,000,000,000", "99999999999999.99", "10000000000000.001"])
ODD_DIGITS = ["²", "³", "¹²³", "①②③", "٣", "۵۰", "१२", "𝟏𝟐", "Ⅻ", "½", "⅓万元", "²万元", "𝟗𝟗𝟗天内", "٣٠个工作日内",
              "〇", "〇〇〇〇", "壹贰叁肆伍陆柒捌玖拾", "廿廿廿", "卅卅万元", "两两两", "俩俩"]
FULL_WIDTH = ["１２３４５６７８９０万元", "２０２６年１２月３１日", "９９９９９９９９个工作日内", "１２－３１", "２０２６／１２／３１",
              "￥１２０，０００", "３０个工作日内", "１５天内", "ｆｏｏ", "　　　"]
EMOJI = ["💰💰", "5️⃣万元", "🔟天内", "👍2026年12月31日", "2026年12月31日🎉", "💯个工作日内", "🧧" * 3000, "👨‍👩‍👧‍👦万元"]
BIDI_ZW = ["\u202e2026年12月31日", "12\u202e月31日", "\u202b金额500万\u202c元", "30\u200b个工作日内", "2026\u200d年12月31日",
           "\ufeff500万元", "5\u200c0\u200c0万元", "\u2066100万\u2069元", "\u061c30天内", "\u200f2026-12-31",
           "\u00ad99999999天前", "\u2028\u2029", "\x00\x01\x02", "\ud7ff", "\U0010ffff" * 10]
LONG = ["测" * 5000, "1" * 5000 + "万元", "2026年" * 1000, "个工作日内" * 1000, "前" * 5000, "天" * 4097,
        "月" * 4097 + "日", "（2023）苏0902执" + "1" * 5000 + "号", "（" * 4096, "99999999天前" * 400,
        "一亿" * 2048 + "元", "2026-12-31 " * 500]
MALFORMED_DATES = ["2026年2月30日", "2026-02-30", "2026年13月1日", "2026年0月0日", "0000-00-00", "9999年99月99日",
                   "2026/2/29", "2027年2月29日", "2026年2月29日", "12月32日", "32号", "下周八", "星期〇", "2026年99999999999999999999月1日",
                   "12月99999999999999999999日", "99999999999999999999号", "2026-1-", "-12-31", "2026年", "年月日",
                   "9999-12-31", "3000年1月1日", "1900-01-01", "明年99月1日", "本月99号", "0天内", "零个工作日内",
                   "-5天内", "1.5个工作日内", "三分之一个月内"]
RELATIVE = [f"{n}{unit}前" for n in ("99999999", "9" * 30, "9" * 5000, "一亿", "一" + "亿" * 150, "九千九百万", "廿")
            for unit in ("天", "个月", "年", "周", "星期")]
PERIODS = [f"{n}{unit}" for n in ("99999999", "9" * 30, "一亿", "一" + "亿" * 150, "九千九百万", "1096", "1095")
           for unit in ("个工作日内", "天内", "周内", "个月内", "日内")]
HOSTILE = HUGE + ODD_DIGITS + FULL_WIDTH + EMOJI + BIDI_ZW + LONG + MALFORMED_DATES + RELATIVE + PERIODS
POLITE_DATE_CODES = set(texts.DATE_PROBLEMS)
POLITE_CODES = {"amount_unreadable", "amount_too_large", "detail_amount", "detail_amount_too_large", "detail_date",
                "detail_case_number", "detail_empty"}


def test_the_table_is_long_enough():
    assert len(HOSTILE) >= 200 and len(set(HOSTILE)) == len(HOSTILE)


def polite(problem: InvalidInput) -> str:
    message = texts.refusal(problem.code, problem.params)
    assert message != texts.ERROR_GENERIC and message.strip()
    assert len(message) < 1000  # a 5,000-character paste is quoted back cut, within Telegram's 4,096
    return message


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.china()


@pytest.mark.parametrize("text", HOSTILE, ids=[f"{i}" for i in range(len(HOSTILE))])
def test_hostile_text_is_refused_politely_and_quickly(text, calendar):
    started = time.monotonic()
    # the due-date parser: a date, or DateProblem with a polite message
    for candidate in (text, split_date_and_text(text)[0]):
        try:
            due = parse_due_date(candidate, today=TODAY, calendar=calendar)
            assert TODAY <= due and (due - TODAY).days <= 3 * 365
        except DateProblem as problem:
            assert problem.code in POLITE_DATE_CODES
            polite(problem)
    # the number reader: a number, None, or NumberTooLarge
    for reader in (parse_number, cn_to_int):
        try:
            value = reader(text)
            assert value is None or abs(value) <= 10**24
        except NumberTooLarge:
            pass
    # amounts: never above the cap, refused politely otherwise
    try:
        amount = parse_amount(text)
        assert amount is None or 0 <= amount <= MAX_AMOUNT_YUAN
    except InvalidInput as problem:
        assert problem.code in POLITE_CODES
        polite(problem)
    # extraction never raises; what it finds is bounded
    amounts = extract_amounts(text)
    assert all(0 < a.value_yuan <= MAX_AMOUNT_YUAN for a in amounts)
    oversized_amounts(text)
    for mention in extract_dates(text, TODAY):
        value = mention.value
        year = value.year if isinstance(value, date) else value[0]
        assert TODAY.year - 201 <= year <= TODAY.year + 11
    extract_case_numbers(text)
    # the complaint's follow-up questions, prefilled from the text or typed as answers
    for domain, fields in FIELDS.items():
        found = prefill(domain, text, TODAY)
        if "amount_yuan" in found:
            assert Decimal(found["amount_yuan"]) <= MAX_AMOUNT_YUAN
        for field in fields:
            try:
                values = parse_answer(field, text, TODAY)
                if "amount_yuan" in values:
                    assert Decimal(values["amount_yuan"]) <= MAX_AMOUNT_YUAN
            except InvalidInput as problem:
                assert problem.code in POLITE_CODES
                polite(problem)
    assert time.monotonic() - started < 2.0  # bounded: no loop over the number's size


def test_the_refusals_say_what_went_wrong(calendar):
    with pytest.raises(DateProblem) as far:
        parse_due_date("99999999个工作日内", today=TODAY, calendar=calendar)
    assert far.value.code == "date_too_far" and "太远" in polite(far.value)
    with pytest.raises(DateProblem) as impossible:
        parse_due_date("2026年2月30日", today=TODAY, calendar=calendar)
    assert impossible.value.code == "date_unreadable" and "没看懂日期" in polite(impossible.value)
    amount_field = next(f for fields in FIELDS.values() for f in fields if f.kind == "amount")
    with pytest.raises(InvalidInput) as huge:
        parse_answer(amount_field, "一" + "亿" * 150 + "元", TODAY)
    assert huge.value.code == "detail_amount_too_large" and "上限" in polite(huge.value)
    with pytest.raises(InvalidInput) as huge:
        parse_amount("一" + "亿" * 150 + "元")
    assert "10万亿元" in polite(huge.value)
    assert extract_dates("99999999天前", TODAY) == []


# --- through the bot ------------------------------------------------------------------------------------

async def test_commit_with_a_huge_working_day_count_is_refused_at_once(harness):
    official = await bind_official(harness, 7208)
    ref = await accepted_case(harness, harness.chat(7009), official)
    started = time.monotonic()
    await official.send(f"/commit {ref} 99999999个工作日内 支付全部货款")
    assert time.monotonic() - started < 2.0
    assert "太远了" in official.last().text
    await official.send(f"/commit {ref} {'9' * 5000}个工作日内 支付")
    assert "太远了" in official.last().text and len(official.last().text) < 1000
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Commitment.id))) == 0


async def test_a_complaint_that_says_99999999_days_ago_and_a_huge_amount_goes_through(harness):
    chat = harness.chat(7010)
    text = "亭湖区住建局拖欠我们工程款" + "一" + "亿" * 150 + "元，99999999天前就该付了，至今一分没给"
    await chat.send(texts.BTN_COMPLAIN)
    await chat.send(text)
    await chat.press(chat.last().buttons[0][1])
    await chat.tap("亭湖区住房和城乡建设局")
    asked = chat.last().text
    assert "补充信息" in asked and "亿亿" not in asked  # the huge amount is not offered as the amount
    # answering the amount question with it is refused politely, and the question is asked again
    while "拖欠金额" not in chat.last().text and "补充信息" in chat.last().text:
        await chat.tap(texts.BTN_DETAIL_SKIP)
    assert "拖欠金额" in chat.last().text
    await chat.send("一" + "亿" * 150 + "元")
    assert "超过了上限" in chat.last().text
    await chat.send("380万元")
    await skip_details(chat)
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_YES)
    seen = len(chat.texts())
    await chat.tap(texts.BTN_SUBMIT)
    assert any("已立案" in t for t in chat.texts()[seen:])
    async with harness.session() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()))
    assert case.details["amount_yuan"] == "3800000"


async def test_the_monthly_review_sums_amounts_exactly_and_survives_an_oversized_legacy_value(harness):
    from bot.domain.reports import monthly_review
    from bot.domain.stats import month_period
    from tests.test_supervision import make_case

    async with harness.session() as session:
        created = datetime(2026, 11, 10, 10, tzinfo=SHANGHAI)
        for amount in ("0.1", "0.2", "9999999999999.99", "1" + "0" * 1200, "not a number", "-5"):
            await make_case(session, dept="city-czj", created=created, details={"amount": amount,
                                                                                "amount_yuan": amount})
        await session.commit()
    async with harness.session() as session:
        review = await monthly_review(session=session, period=month_period(2026, 11, SHANGHAI),
                                      now=datetime(2026, 11, 30, 12, tzinfo=SHANGHAI), region=None,
                                      calendar=harness.services.deadlines.calendar)
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(review.workbook), read_only=True)
    rows = {r[0]: r for r in book[texts.SHEET_DEPARTMENTS].iter_rows(values_only=True)}
    # 0.1 + 0.2 + 9999999999999.99 exactly (a float sum gives 10000000000000.291); the 1,201-digit
    # value, the text and the negative are left out, and the review is still made.
    assert Decimal(str(rows["city-czj"][7])) == Decimal("10000000000000.29")
