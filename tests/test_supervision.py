"""Supervision: /find, filtered /cases, /overdue, /stats, /report, /score, the monthly review — numbers checked
against hand-built data whose right answers are known."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from itertools import count

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.db.models import Account, Case, Department, DishonestyRecord, JobRun, Obligation, ReportRead
from bot.domain.scores import department_scores
from bot.domain.stats import month_period, monthly_trend, parse_period, period_stats
from handlers.supervision import find_command, register_supervision_handlers
from scheduler.monthly import monthly_review_job
from tests.conftest import SHANGHAI, SUPERVISOR_ID, make_settings, start_harness, stop_harness
from tests.flows import accepted_case, bind_official, file_complaint, regional_supervisor

_refs = count(1)


# --- helpers ---------------------------------------------------------------------------------------


def wire(harness) -> None:
    """Until bot/app.py calls it, register this module's handlers on the test Application."""
    if not any(getattr(h, "callback", None) is find_command for h in harness.app.handlers.get(0, [])):
        register_supervision_handlers(harness.app)


@pytest.fixture
async def sv(harness):
    wire(harness)
    return harness


def local(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def end_of(y, m, d) -> datetime:
    return datetime.combine(date(y, m, d), time(23, 59, 59), tzinfo=SHANGHAI)


async def department(session, code: str) -> Department:
    return await session.scalar(select(Department).where(Department.code == code))


async def complainant(session) -> Account:
    account = await session.scalar(select(Account).where(Account.telegram_id == 555))
    if account is None:
        now = local(2026, 1, 1)
        account = Account(telegram_id=555, role="citizen", full_name="群众", created_at=now, last_seen_at=now)
        session.add(account)
        await session.flush()
    return account


async def make_case(session, *, dept: str | None, created: datetime, domain: str = "procurement",
                    status: str = "in_progress", closed: datetime | None = None, text: str = "拖欠货款的投诉内容",
                    **extra) -> Case:
    department_id = (await department(session, dept)).id if dept else None
    citizen = await complainant(session)
    case = Case(ref=f"YC-{created:%Y%m%d}-{next(_refs):04d}", status=status, domain=domain, domain_confidence=0.9,
                domain_terms=[], suggested_domain=domain, department_id=department_id, complainant_id=citizen.id,
                text=text, text_masked=text, created_at=created, updated_at=created, closed_at=closed, **extra)
    session.add(case)
    await session.flush()
    return case


async def make_clock(session, case: Case, *, kind: str, due: datetime, state: str = "open",
                     closed: datetime | None = None) -> Obligation:
    clock = Obligation(case_id=case.id, kind=kind, department_id=case.department_id, due_at=due, state=state,
                       created_at=case.created_at, closed_at=closed)
    session.add(clock)
    await session.flush()
    return clock


def capture_uploads(harness) -> list[tuple[str, dict]]:
    """Record the files of multipart calls (sendDocument, sendPhoto): (method, {name: (filename, bytes, mime)})."""
    uploads: list[tuple[str, dict]] = []
    original = harness.request.do_request

    async def recording(url, method, request_data=None, **kwargs):
        if request_data is not None and request_data.contains_files:
            uploads.append((url.rsplit("/", 1)[-1], request_data.multipart_data))
        return await original(url, method, request_data, **kwargs)

    harness.request.do_request = recording
    return uploads


def workbook_of(upload: dict):
    (filename, content, _mime), = [v for v in upload.values()]
    return filename, load_workbook(io.BytesIO(content), read_only=True)


def rows(sheet) -> list[tuple]:
    return [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]


def monthly_job(harness):
    jobs = harness.app.job_queue.get_jobs_by_name("monthly_review_job")
    if not jobs:
        harness.app.job_queue.run_repeating(monthly_review_job, interval=300, first=3600, name="monthly_review_job")
        jobs = harness.app.job_queue.get_jobs_by_name("monthly_review_job")
    return jobs[0]


# --- periods ---------------------------------------------------------------------------------------


def test_periods_parse_months_and_ranges():
    today = date(2026, 11, 27)
    month = parse_period("2026-11", today=today, tz=SHANGHAI)
    assert (month.start, month.end, month.label) == (date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    assert month.previous().label == "2026-10" and month_period(2026, 1, SHANGHAI).previous().label == "2025-12"
    assert parse_period("", today=today, tz=SHANGHAI).label == "2026-11"
    assert parse_period("2026年3月", today=today, tz=SHANGHAI).label == "2026-03"
    span = parse_period("2026-11-01..2026-11-10", today=today, tz=SHANGHAI)
    assert (span.start, span.end) == (date(2026, 11, 1), date(2026, 11, 10))
    assert span.previous().start == date(2026, 10, 22) and span.end_at == local(2026, 11, 11, 0)
    for bad in ("2026-13", "13月", "2026-11-10..2026-11-01", "2026-02-30..2026-03-01", "明年"):
        with pytest.raises(Exception):
            parse_period(bad, today=today, tz=SHANGHAI)


# --- /overdue --------------------------------------------------------------------------------------


async def test_overdue_counts_working_days_across_national_day(sv):
    async with sv.session() as session:
        case = await make_case(session, dept="city-czj", created=local(2026, 9, 20))
        await make_clock(session, case, kind="reply", due=end_of(2026, 9, 30))
        await session.commit()
    sv.clock.set(local(2026, 10, 9))
    supervisor = sv.supervisor()
    await supervisor.send("/overdue")
    listing = supervisor.last().text
    # National Day 10-01..10-07 are off: 10-08 and 10-09 are the two working days overdue.
    assert "盐城市财政局" in listing and case.ref in listing and "逾期 2 个工作日" in listing, listing
    assert "共 1 项" in listing
    sv.clock.set(local(2026, 10, 10))  # a make-up working Saturday (调休)
    await supervisor.send("/overdue")
    assert "逾期 3 个工作日" in supervisor.last().text
    sv.clock.set(local(2026, 10, 11))  # an ordinary Sunday: no working day added
    await supervisor.send("/overdue")
    assert "逾期 3 个工作日" in supervisor.last().text


async def test_overdue_is_scoped_to_a_regional_supervisors_departments(sv):
    async with sv.session() as session:
        city = await make_case(session, dept="city-czj", created=local(2026, 11, 2))
        tinghu = await make_case(session, dept="tinghu-zjj", created=local(2026, 11, 2), domain="debt")
        for case in (city, tinghu):
            await make_clock(session, case, kind="accept", due=end_of(2026, 11, 4))
        await make_clock(session, city, kind="reply", due=end_of(2026, 12, 30))  # not yet due
        await session.commit()
    regional = await regional_supervisor(sv, 4100, "tinghu")
    await regional.send("/overdue")
    text = regional.last().text
    assert tinghu.ref in text and "亭湖区住房和城乡建设局" in text
    assert city.ref not in text and "盐城市财政局" not in text and "区域：tinghu" in text
    await sv.supervisor().send("/overdue")
    text = sv.supervisor().last().text
    assert tinghu.ref in text and city.ref in text and "共 2 项" in text

    other = await regional_supervisor(sv, 4101, "binhai")
    await other.send("/overdue")
    assert "没有逾期" in other.last().text


async def test_citizens_cannot_use_supervision_commands(sv):
    citizen = sv.chat(4200)
    for command in ("/overdue", "/stats", "/report", "/score", "/find 货款", "/cases overdue"):
        await citizen.send(command)
        assert "没有权限" in citizen.last().text, command
        assert citizen.last().method == "sendMessage"


# --- /stats ----------------------------------------------------------------------------------------


async def _backlog_data(harness):
    """October: 2 cases filed (one closed in November). November: 3 filed (2 procurement, 1 debt), one closed."""
    async with harness.session() as session:
        await make_case(session, dept="city-czj", created=local(2026, 10, 12))
        await make_case(session, dept="tinghu-zjj", created=local(2026, 10, 20), domain="debt", status="closed",
                        closed=local(2026, 11, 5))
        await make_case(session, dept="city-czj", created=local(2026, 11, 3))
        await make_case(session, dept="city-czj", created=local(2026, 11, 4), status="closed",
                        closed=local(2026, 11, 20))
        await make_case(session, dept="tinghu-zjj", created=local(2026, 11, 6), domain="debt")
        await session.commit()


async def test_stats_counts_and_backlog_against_known_numbers(sv):
    await _backlog_data(sv)
    async with sv.session() as session:
        stats = await period_stats(session=session, period=month_period(2026, 11, SHANGHAI), region=None)
        regional = await period_stats(session=session, period=month_period(2026, 11, SHANGHAI), region="tinghu")
    assert dict(stats.by_domain) == {"procurement": 2, "debt": 1}
    assert {name: n for _, name, n in stats.by_department} == {"盐城市财政局": 2, "亭湖区住房和城乡建设局": 1}
    assert dict(stats.by_status) == {"in_progress": 2, "closed": 1}
    b, p = stats.backlog, stats.previous
    assert (b.open_at_start, b.new, b.closed, b.open_at_end) == (2, 3, 2, 3)
    assert (p.open_at_start, p.new, p.closed, p.open_at_end) == (0, 2, 0, 2)
    rb = regional.backlog
    assert (rb.open_at_start, rb.new, rb.closed, rb.open_at_end) == (1, 1, 1, 1)

    # The chart's data: six months ending November, by domain, and open at each month end.
    async with sv.session() as session:
        trend = await monthly_trend(session=session, period=month_period(2026, 11, SHANGHAI), region=None)
        regional_trend = await monthly_trend(session=session, period=month_period(2026, 11, SHANGHAI),
                                             region="tinghu")
    assert [m.label for m in trend.months][-2:] == ["2026-10", "2026-11"]
    assert trend.by_domain == {"procurement": [0, 0, 0, 0, 1, 2], "debt": [0, 0, 0, 0, 1, 1]}
    assert trend.open_at_end == [0, 0, 0, 0, 2, 3]
    assert regional_trend.by_domain == {"debt": [0, 0, 0, 0, 1, 1]}
    assert regional_trend.open_at_end == [0, 0, 0, 0, 1, 1]

    uploads = capture_uploads(sv)
    supervisor = sv.supervisor()
    await supervisor.send("/stats")
    text = [c.text for c in sv.request.messages_to(SUPERVISOR_ID) if c.method == "sendMessage"][-1]
    assert "统计 2026-11" in text and "期初在办：2" in text and "本期新增：3（上期 2，↑1）" in text
    assert "本期办结：2（上期 0，↑2）" in text and "期末在办：3（上期末 2，↑1）" in text
    assert "政府采购：2" in text and "地方政府债务：1" in text
    photo = supervisor.last()
    assert photo.method == "sendPhoto" and "近 6 个月" in photo.text
    (method, files), = uploads
    assert method == "sendPhoto" and list(files.values())[0][1][:8] == b"\x89PNG\r\n\x1a\n"

    await supervisor.send("/stats 2026-11-01..2026-11-04")
    assert "本期新增：2" in sv.request.sent(SUPERVISOR_ID, "sendMessage")[-1].text


async def test_stats_of_an_empty_period_says_so_and_sends_no_chart(sv):
    await _backlog_data(sv)
    supervisor = sv.supervisor()
    await supervisor.send("/stats 2025-03")
    assert "没有任何案件数据" in supervisor.last().text
    assert not sv.request.sent(SUPERVISOR_ID, "sendPhoto")
    await supervisor.send("/stats 2026-99")
    assert "无法识别时间段" in supervisor.last().text and "2026-11-01..2026-11-30" in supervisor.last().text


# --- /report ---------------------------------------------------------------------------------------


async def test_report_is_a_real_workbook(sv):
    await _backlog_data(sv)
    async with sv.session() as session:
        case = await make_case(session, dept="city-czj", created=local(2026, 11, 9))
        case.details = {"project": "办公设备采购", "amount": "38万元", "amount_yuan": "380000"}
        await make_clock(session, case, kind="reply", due=end_of(2026, 11, 20))
        closed = await make_case(session, dept="city-czj", created=local(2026, 11, 9), status="closed",
                                 closed=local(2026, 11, 16), outcome="substantiated", satisfaction="satisfied",
                                 satisfaction_at=local(2026, 11, 25))
        session.add(DishonestyRecord(case_id=closed.id, department_id=closed.department_id, domain="procurement",
                                     summary="拖欠货款", status="active", created_at=local(2026, 11, 16)))
        await session.commit()
    uploads = capture_uploads(sv)
    supervisor = sv.supervisor()
    await supervisor.send("/report 2026-11")
    document = [c for c in sv.request.sent(SUPERVISOR_ID) if c.method == "sendDocument"][-1]
    assert "2026-11 月度排查报表" in document.text
    assert supervisor.last().method == "sendPhoto"
    method, files = uploads[0]
    assert method == "sendDocument"
    filename, book = workbook_of(files)
    assert filename == "政务诚信月报-2026-11.xlsx"
    assert book.sheetnames == ["汇总", "各部门", "逾期事项", "失信记录", "满意度"]
    summary = {r[0]: r[1] for r in rows(book["汇总"]) if len(r) > 1 and r[0]}
    assert summary["期初在办"] == 2 and summary["本期新增"] == 5 and summary["本期办结"] == 3
    assert summary["期末在办"] == 4 and summary["本期失信记录"] == 1 and summary["逾期事项（截至生成时）"] == 1
    overdue = rows(book["逾期事项"])
    assert overdue[0][:3] == ("部门代码", "部门", "案件编号")
    assert overdue[1][:5] == ("city-czj", "盐城市财政局", case.ref, "答复", "2026-11-20")
    assert overdue[1][5] == 5  # 11-23..11-27, Monday to Friday
    records = rows(book["失信记录"])
    assert len(records) == 2 and records[1][1] == closed.ref and records[1][5] == "有效"
    departments = {r[0]: r for r in rows(book["各部门"])[1:]}
    assert departments["city-czj"][3] == 4 and departments["city-czj"][17] == 1  # new, records counted fully
    assert departments["city-czj"][7] == 380000  # arrears citizens reported, summed
    satisfaction = rows(book["满意度"])
    assert satisfaction[1][:3] == ("city-czj", "盐城市财政局", 1)


async def test_report_of_an_empty_month_and_a_bad_month(sv):
    supervisor = sv.supervisor()
    await supervisor.send("/report 2026-11")
    assert "没有任何数据" in supervisor.last().text
    await supervisor.send("/report 2026-13")
    assert "无法识别月份" in supervisor.last().text and "/report 2026-11" in supervisor.last().text
    await supervisor.send("/report 十一月")
    assert "无法识别月份" in supervisor.last().text
    assert not sv.request.sent(SUPERVISOR_ID, "sendDocument")


async def test_regional_report_covers_only_the_region(sv):
    await _backlog_data(sv)
    uploads = capture_uploads(sv)
    regional = await regional_supervisor(sv, 4300, "tinghu")
    await regional.send("/report 2026-11")
    filename, book = workbook_of(uploads[0][1])
    assert filename == "政务诚信月报-2026-11-tinghu.xlsx"
    summary = {r[0]: r[1] for r in rows(book["汇总"]) if len(r) > 1 and r[0]}
    assert summary["范围"] == "tinghu" and summary["本期新增"] == 1
    assert {r[0] for r in rows(book["各部门"])[1:]} == {"tinghu-zjj"}


# --- /score ----------------------------------------------------------------------------------------


async def test_score_of_a_department_with_one_substantiated_and_one_tolerated_case(sv):
    citizen = sv.chat(4400)
    official = await bind_official(sv, 4401)
    supervisor = sv.supervisor()
    first = await accepted_case(sv, citizen, official)
    await official.send(f"/reply {first} 已核实")
    await official.send(f"/rectified {first} 货款已支付")
    await supervisor.send(f"/verify {first} 属实")
    second = await accepted_case(sv, citizen, official)
    await supervisor.send(f"/tolerate {second} 新任负责人主动纠正，符合容错条件")
    assert "容错" in supervisor.last().text

    async with sv.session() as session:
        assert await session.scalar(select(func.count(DishonestyRecord.id))) == 1
        score, = await department_scores(
            session=session, period=month_period(2026, 11, SHANGHAI), now=sv.clock.now(), region=None,
            calendar=sv.services.deadlines.calendar,
            department_ids=[(await department(session, "city-czj")).id])
    assert (score.missed, score.overdue_working_days, score.reopens, score.closings) == (0, 0, 0, 2)
    assert score.met >= 3 and score.substantiated_records == 1
    assert score.deductions == {"on_time": 0.0, "overdue": 0.0, "reopen": 0.0, "satisfaction": 0.0, "records": 10.0}
    assert score.score == 90.0 and score.grade == "excellent"

    await supervisor.send("/score 市财政局")
    detail = supervisor.last().text
    assert "盐城市财政局 政务诚信评价 2026-11" in detail and "得分：<b>90</b>（优秀）" in detail
    assert "计满额 1 条" in detail
    await supervisor.send("/score")
    ranking = supervisor.last().text
    assert "1. 盐城市财政局 90（优秀）" in ranking and "未参与排名" in ranking
    await supervisor.send("/score formula")
    assert "计分办法" in supervisor.last().text and "已修复的计 0.3" in supervisor.last().text
    await supervisor.send("/score 火星移民局")
    assert "没有找到部门“火星移民局”" in supervisor.last().text and "/score 市财政局" in supervisor.last().text


async def test_score_weights_records_and_counts_lateness_in_working_days(sv):
    async with sv.session() as session:
        case = await make_case(session, dept="city-czj", created=local(2026, 9, 1))
        # Missed: due 09-30, met late on 10-09 → 2 working days (National Day in between).
        await make_clock(session, case, kind="reply", due=end_of(2026, 9, 30), state="missed",
                         closed=local(2026, 10, 9, 15))
        await make_clock(session, case, kind="accept", due=end_of(2026, 9, 3), state="met",
                         closed=local(2026, 10, 2))
        dept = case.department_id
        for status in ("active", "repaired", "revoked", "objection_pending"):
            session.add(DishonestyRecord(case_id=case.id, department_id=dept, domain="procurement", summary="x",
                                         status=status, created_at=local(2026, 10, 20)))
        await session.commit()
        score, = await department_scores(
            session=session, period=month_period(2026, 10, SHANGHAI), now=sv.clock.now(), region=None,
            calendar=sv.services.deadlines.calendar, department_ids=[dept])
    assert (score.met, score.missed, score.overdue_working_days) == (1, 1, 2)
    assert score.deductions["on_time"] == 15.0 and score.deductions["overdue"] == 1.0
    assert score.weighted_records == pytest.approx(2.3) and score.deductions["records"] == 23.0
    assert score.score == 61.0 and score.grade == "pass"


# --- /case, /find, /cases ----------------------------------------------------------------------------


async def test_supervisor_case_view_shows_clocks_commitments_and_decisions(sv):
    citizen = sv.chat(4500)
    official = await bind_official(sv, 4501)
    ref = await accepted_case(sv, citizen, official)
    await official.send(f"/commit {ref} 10个工作日内 支付全部货款")
    supervisor = sv.supervisor()
    await supervisor.send(f"/case {ref}")
    view = supervisor.last()
    assert "<b>期限</b>" in view.text and "分派：截止" in view.text and "按时完成" in view.text
    assert "答复：截止" in view.text and "进行中，剩" in view.text
    assert "<b>承诺</b>" in view.text and "支付全部货款（待审核）" in view.text
    assert "/tolerate " + ref in view.text
    labels = [label for label, _ in view.buttons]
    assert "承诺：批准" in labels and "承诺：退回" in labels
    await supervisor.tap("承诺：批准")
    async with sv.session() as session:
        assert (await session.scalar(select(Case).where(Case.ref == ref))).status == "in_progress"
    await supervisor.send(f"/case {ref}")
    assert "（已批准）" in supervisor.last().text and "/broken " + ref in supervisor.last().text


async def test_find_matches_text_reference_and_department_with_pages(sv):
    async with sv.session() as session:
        for day in range(1, 13):
            await make_case(session, dept="city-czj", created=local(2026, 11, day), text=f"第{day}件 拖欠工程款")
        await make_case(session, dept="tinghu-zjj", created=local(2026, 11, 20), text="招商引资承诺不兑现")
        await session.commit()
    supervisor = sv.supervisor()
    await supervisor.send("/find 工程款")
    page = supervisor.last()
    assert "共 12 件" in page.text and "第 1/2 页" in page.text
    assert page.text.index("-20261112-") < page.text.index("-20261103-")  # newest first
    await supervisor.tap("下一页 ›")
    assert "第 2/2 页" in supervisor.last().text and "-20261101-" in supervisor.last().text
    await supervisor.send("/find 亭湖区住建")
    assert "共 1 件" in supervisor.last().text and "招商" not in supervisor.last().text
    await supervisor.send("/find 20261120")
    assert "共 1 件" in supervisor.last().text
    await supervisor.send("/find 火星")
    assert "没有找到与“火星”相关的案件" in supervisor.last().text
    await supervisor.send("/find")
    assert "用法" in supervisor.last().text
    await supervisor.send("/find <b>%_")
    assert "&lt;b&gt;%_" in supervisor.last().text


async def test_cases_filters_and_the_plain_list_still_works(sv):
    async with sv.session() as session:
        a = await make_case(session, dept="city-czj", created=local(2026, 11, 2))
        await make_clock(session, a, kind="reply", due=end_of(2026, 11, 10))
        await make_case(session, dept="city-czj", created=local(2026, 10, 2), domain="debt")
        await make_case(session, dept="tinghu-zjj", created=local(2026, 11, 3), status="closed",
                        closed=local(2026, 11, 4))
        await session.commit()
    supervisor = sv.supervisor()
    await supervisor.send("/cases")
    assert "<b>案件列表</b>（共 3 件，第 1/1 页）" in supervisor.last().text
    await supervisor.send("/cases closed")
    assert "共 1 件" in supervisor.last().text
    await supervisor.send("/cases 乱七八糟")
    assert "没有“乱七八糟”这种状态" in supervisor.last().text and "dept=" in supervisor.last().text
    await supervisor.send("/cases 政府采购 dept=市财政局 overdue 2026-11")
    listing = supervisor.last()
    assert "共 1 件" in listing.text and [label for label, _ in listing.buttons] == [a.ref]
    assert "政府采购 · 盐城市财政局 · 有逾期期限 · 2026-11" in listing.text
    await supervisor.send("/cases debt")
    assert "共 1 件" in supervisor.last().text
    await supervisor.send("/cases 2026-11-01..2026-11-02")
    assert "共 1 件" in supervisor.last().text
    await supervisor.send("/cases dept=火星局")
    assert "没有找到部门“火星局”" in supervisor.last().text


async def test_filtered_case_pages_keep_their_filter(sv):
    async with sv.session() as session:
        for day in range(1, 16):
            await make_case(session, dept="city-czj", created=local(2026, 11, day))
        await make_case(session, dept="city-czj", created=local(2026, 11, 20), domain="debt")
        await session.commit()
    supervisor = sv.supervisor()
    await supervisor.send("/cases procurement 2026-11")
    assert "共 15 件" in supervisor.last().text
    await supervisor.tap("下一页 ›")
    second = supervisor.last().text
    assert "共 15 件" in second and "第 2/2 页" in second and "地方政府债务" not in second


# --- the monthly review ------------------------------------------------------------------------------


async def test_monthly_review_sends_once_even_after_a_restart_and_records_read(sv, database_url, classifier):
    citizen = sv.chat(4600)
    head = await bind_official(sv, 4601, head=True)
    official = await bind_official(sv, 4602)
    await accepted_case(sv, citizen, official)
    uploads = capture_uploads(sv)
    job = monthly_job(sv)

    sv.clock.set(local(2026, 12, 1, 8, 59))  # Tuesday, the first working day of December
    await job.run(sv.app)
    assert not sv.request.sent(method="sendDocument")
    sv.clock.set(local(2026, 12, 1, 9, 3))
    await job.run(sv.app)
    await job.run(sv.app)
    to_supervisor = sv.request.sent(SUPERVISOR_ID, "sendDocument")
    to_head = sv.request.sent(head.user_id, "sendDocument")
    assert len(to_supervisor) == 1 and len(to_head) == 1
    assert not sv.request.sent(official.user_id, "sendDocument")
    assert "2026-11 月度排查" in to_supervisor[0].text and sv.request.sent(SUPERVISOR_ID, "sendPhoto")
    head_files = [files for method, files in uploads if method == "sendDocument"]
    names = sorted(workbook_of(f)[0] for f in head_files)
    assert names == ["政务诚信月报-2026-11-city-czj.xlsx", "政务诚信月报-2026-11.xlsx"]
    _, book = workbook_of(next(f for f in head_files if "city-czj" in workbook_of(f)[0]))
    assert book.sheetnames == ["本部门"]
    assert any(r and r[0] == "city-czj" and r[3] == 1 for r in rows(book["本部门"]))  # one new case in November

    # A restart: a new Application on the same database sends nothing again.
    await stop_harness(sv)
    again = await start_harness(make_settings(database_url), classifier, sv.clock)
    try:
        wire(again)
        await monthly_job(again).run(again.app)
        assert not again.request.sent(method="sendDocument")
        async with again.session() as session:
            assert await session.scalar(select(func.count(JobRun.id)).where(JobRun.name == "monthly_review")) == 1

        head_again = again.chat(head.user_id)
        button = [data for label, data in to_head[0].buttons if label == "已阅"][0]
        await head_again.press(button)
        assert "已阅" in head_again.last().text
        await head_again.press(button)
        alert = again.request.sent(method="answerCallbackQuery")[-1]
        assert "已确认阅读" in alert.params.get("text", "")
        stranger = again.chat(4603)
        await stranger.press(button)
        async with again.session() as session:
            reads = (await session.scalars(select(ReportRead))).all()
        assert len(reads) == 1 and reads[0].month == "2026-11"
    finally:
        await stop_harness(again)


async def test_monthly_review_waits_for_the_first_working_day(sv):
    async with sv.session() as session:
        await make_case(session, dept="city-czj", created=local(2026, 9, 10))
        await session.commit()
    job = monthly_job(sv)
    sv.clock.set(local(2026, 10, 5, 10))  # National Day holiday: October's first working day is 10-08
    await job.run(sv.app)
    assert not sv.request.sent(SUPERVISOR_ID, "sendDocument")
    sv.clock.set(local(2026, 10, 8, 9, 30))
    await job.run(sv.app)
    assert len(sv.request.sent(SUPERVISOR_ID, "sendDocument")) == 1
    assert "2026-09" in sv.request.sent(SUPERVISOR_ID, "sendDocument")[0].text


async def test_monthly_review_of_an_empty_month_sends_a_note_and_no_file(sv):
    job = monthly_job(sv)
    sv.clock.set(local(2026, 12, 1, 9, 30))
    await job.run(sv.app)
    assert not sv.request.sent(method="sendDocument")
    assert "无需排查" in sv.supervisor().last().text
