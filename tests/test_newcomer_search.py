"""Items 4 and 5 of issue 15: /find across traditional and simplified characters, both ways; /cases filters in
Chinese (status labels, short domain names, department aliases) and a refusal that lists the accepted words."""

from __future__ import annotations

from bot import texts
from bot.domain.filters import DOMAIN_WORDS, STATUS_WORDS
from tests.test_supervision import local, make_case, sv  # noqa: F401  (sv: the fixture, by name)


async def test_find_matches_traditional_and_simplified_both_ways(sv):
    async with sv.session() as session:
        traditional = await make_case(session, dept="city-czj", created=local(2026, 11, 9),
                                      text="採購人一直拖欠貨款三十八萬元")
        simplified = await make_case(session, dept="city-czj", created=local(2026, 11, 10),
                                     text="开发区承诺的税收返还一直没有兑现")
        await session.commit()
    supervisor = sv.supervisor()
    await supervisor.send("/find 货款")
    assert traditional.ref in supervisor.last().text
    await supervisor.send("/find 貨款")
    assert traditional.ref in supervisor.last().text
    await supervisor.send("/find 稅收返還")
    assert simplified.ref in supervisor.last().text and traditional.ref not in supervisor.last().text
    await supervisor.send("/find 税收返还")
    assert simplified.ref in supervisor.last().text


async def test_cases_filters_in_chinese(sv):
    async with sv.session() as session:
        waiting = await make_case(session, dept=None, created=local(2026, 11, 9), domain="debt", status="submitted")
        working = await make_case(session, dept="yandu-zjj", created=local(2026, 11, 10), domain="procurement",
                                  status="in_progress")
        await session.commit()
    supervisor = sv.supervisor()
    for words, shown, hidden in (
        ("待分派", waiting, working), ("已受理登记，待分派", waiting, working), ("债务", waiting, working),
        ("办理中", working, waiting), ("采购", working, waiting), ("盐都区住建局", working, waiting),
        ("办理中 采购 盐都住建局 本月", working, waiting), ("submitted", waiting, working),
        ("地方政府债务", waiting, working),
    ):
        await supervisor.send(f"/cases {words}")
        assert shown.ref in supervisor.last().text and hidden.ref not in supervisor.last().text, words
    await supervisor.send("/cases 乱七八糟")
    refusal = supervisor.last().text
    for word in ("待分派", "办理中", "已办结", "债务", "采购", "招商", "判决", "统计", "乡镇", "招投标", "PPP",
                 "公务员", "市财政局", "逾期", "上个月"):
        assert word in refusal, word


def test_the_vocabulary_covers_every_status_and_domain():
    assert set(STATUS_WORDS.values()) == set(texts.STATUS_LABELS)
    assert set(DOMAIN_WORDS.values()) == set(texts.DOMAIN_LABELS)
    for label, code in (("街道", "township"), ("乡镇", "township"), ("PPP", "ppp"), ("判决", "judgment")):
        assert DOMAIN_WORDS.get(label) or DOMAIN_WORDS.get(label.lower()) == code


async def test_supervisors_case_starts_with_its_heading_and_details_follow_the_text(sv):
    """Item 8 of issue 15, the supervisor's /case: 案件 YC-… first; 补充信息 under the complaint's text."""
    from tests.conftest import SUPERVISOR_ID

    async with sv.session() as session:
        case = await make_case(session, dept="city-czj", created=local(2026, 11, 9))
        case.details = {"project": "办公设备采购", "amount": "38万元"}
        await session.commit()
    await sv.supervisor().send(f"/case {case.ref}")
    view = [c.text for c in sv.request.messages_to(SUPERVISOR_ID) if case.ref in c.text][-1]
    assert view.startswith(f"<b>案件 {case.ref}</b>")
    assert view.index("<b>原文</b>") < view.index("<b>补充信息</b>") < view.index("<b>记录</b>")
