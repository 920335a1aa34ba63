"""The numbers of supervision (督办): /stats for a period, the monthly /report workbook and its 已阅
button, /score for departments (with formula_text and score_detail).

Every figure is limited to the acting supervisor's scope: a regional supervisor's figures cover their
region's departments (bot.domain.scope.supervisor_region).
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import texts
from bot.domain import scope
from bot.domain.errors import DomainError, Forbidden
from bot.domain.reports import (
    TELEGRAM_DOCUMENT_LIMIT, monthly_review, record_report_read, report_filename, summary_line, trend_chart,
)
from bot.domain.scores import FORMULA_WEIGHTS, DepartmentScore, department_scores, ranking, standings
from bot.domain.stats import Period, looks_like_period, parse_month, parse_period, period_stats
from bot.domain.supervision_reads import department_in_scope, departments_in_scope
from handlers.codec import Codec, Int, Word
from handlers.door import SUPERVISORS, SUPERVISORS_OR_OFFICIALS, Turn, door
from handlers.views import fit_lines, region_note, today_of

REPORT_READ = Codec("rr", Int(), Word(pattern=r"\d{4}-(0[1-9]|1[0-2])"))

# --- /stats ------------------------------------------------------------------------------------------


def _stats_text(stats, region: str | None) -> str:
    b, p = stats.backlog, stats.previous
    lines = [texts.STATS_HEADER.format(period=stats.period.label, region=region_note(region))]
    lines.append(texts.STATS_BACKLOG.format(
        open_at_start=b.open_at_start, new=b.new, prev_new=p.new, new_change=texts.change_text(b.new, p.new),
        closed=b.closed, prev_closed=p.closed, closed_change=texts.change_text(b.closed, p.closed),
        open_at_end=b.open_at_end, prev_open=p.open_at_end,
        open_change=texts.change_text(b.open_at_end, p.open_at_end)))
    lines.append(texts.STATS_BY_DOMAIN)
    lines += [texts.STATS_LINE.format(label=texts.domain_label(d), n=n) for d, n in stats.by_domain] \
        or [texts.STATS_NO_NEW]
    top = stats.by_department[:10]
    lines.append(texts.STATS_BY_DEPARTMENT.format(n=len(top)))
    lines += [texts.STATS_LINE.format(label=texts.esc(name) if name else texts.STATS_UNASSIGNED, n=n)
              for _, name, n in top] or [texts.STATS_NO_NEW]
    if len(stats.by_department) > len(top):
        lines.append(texts.STATS_MORE_DEPARTMENTS.format(n=len(stats.by_department) - len(top)))
    lines.append(texts.STATS_BY_STATUS)
    lines += [texts.STATS_LINE.format(label=texts.status_label(s), n=n) for s, n in stats.by_status] \
        or [texts.STATS_NO_NEW]
    return fit_lines(lines)


def _chart_caption(chinese: bool) -> str:
    return texts.STATS_CHART_CAPTION.format(note="" if chinese else texts.CHART_ASCII_NOTE)


@door(roles=SUPERVISORS, reads=True)
async def stats_command(turn: Turn) -> None:
    """Counts by domain, department and status, and the backlog, for a period; with a chart (/stats [period])."""
    region = scope.supervisor_region(turn.actor)
    period = parse_period(" ".join(turn.args), today=today_of(turn.now, turn.svc), tz=turn.svc.settings.tz)
    stats = await period_stats(session=turn.session, period=period, region=region)
    if stats.empty:
        turn.reply(texts.STATS_EMPTY.format(period=period.label, region=region_note(region)))
        return
    png, chinese = await trend_chart(session=turn.session, period=period, region=region)
    turn.reply(_stats_text(stats, region))
    turn.reply_file("photo", png, caption=_chart_caption(chinese))




# --- /report -----------------------------------------------------------------------------------------


@door(roles=SUPERVISORS, reads=True)
async def report_command(turn: Turn) -> None:
    """The monthly review as an .xlsx workbook, with the chart (/report [2026-11])."""
    svc = turn.svc
    region = scope.supervisor_region(turn.actor)
    period = parse_month(" ".join(turn.args), today=today_of(turn.now, svc), tz=svc.settings.tz)
    review = await monthly_review(session=turn.session, period=period, now=turn.now, region=region,
                                  calendar=svc.deadlines.calendar)
    note = region_note(region)
    if review.workbook is None:
        turn.reply(texts.REPORT_EMPTY.format(month=period.label, region=note))
        return
    png, chinese = await trend_chart(session=turn.session, period=period, region=region)
    if review.too_large:
        turn.reply(texts.REPORT_TOO_LARGE.format(
            month=period.label, size=f"{len(review.workbook) / 1024 / 1024:.0f}", summary=summary_line(review)))
    else:
        turn.reply_file("document", review.workbook, filename=report_filename(period, region),
                        caption=texts.REPORT_CAPTION.format(month=period.label, region=note) + "\n"
                        + summary_line(review))
    if len(png) <= TELEGRAM_DOCUMENT_LIMIT:
        turn.reply_file("photo", png, caption=_chart_caption(chinese))


@door(roles=SUPERVISORS_OR_OFFICIALS, codec=REPORT_READ)
async def report_read_button(turn: Turn) -> None:
    """已阅 under a department's monthly workbook (rr:DEPARTMENT_ID:YYYY-MM): recorded once per person."""
    department_id, month = turn.data
    department = await department_in_scope(session=turn.session, actor=turn.actor, department_id=department_id)
    if department is None:
        raise Forbidden("forbidden")
    recorded = await record_report_read(session=turn.session, department_id=department.id, month=month,
                                        account_id=turn.actor.account_id, now=turn.now)
    if recorded:
        turn.close_buttons()
        turn.reply(texts.REPORT_READ_RECORDED.format(department=texts.esc(department.name), month=month))
    else:
        turn.alert(texts.REPORT_READ_ALREADY)




# --- /score ------------------------------------------------------------------------------------------


def formula_text() -> str:
    return texts.SCORE_FORMULA.format(**FORMULA_WEIGHTS)


def score_detail(score: DepartmentScore, period: Period, rank: int | None = None, ranked: int = 0) -> str:
    """One department's score with its deductions and rank; 不参与排名 when it has nothing to judge."""
    if rank is None:
        return texts.SCORE_NOT_RANKED_DETAIL.format(department=texts.esc(score.name), period=period.label)
    d = score.deductions
    return texts.SCORE_DETAIL.format(
        department=texts.esc(score.name), period=period.label, score=f"{score.score:g}",
        grade=texts.GRADE_LABELS[score.grade], met=score.met, missed=score.missed,
        on_time=texts.percent(score.on_time_rate), d_on_time=f"{d['on_time']:g}",
        overdue_days=score.overdue_working_days, d_overdue=f"{d['overdue']:g}",
        closings=score.closings, reopens=score.reopens, reopen_rate=texts.percent(score.reopen_rate),
        d_reopen=f"{d['reopen']:g}", rated=score.rated, satisfied=score.ratings.get("satisfied", 0),
        basic=score.ratings.get("basically_satisfied", 0), unsatisfied=score.ratings.get("unsatisfied", 0),
        satisfaction=texts.percent(score.satisfaction_index), d_satisfaction=f"{d['satisfaction']:g}",
        records_full=score.substantiated_records, records_repaired=score.records.get("repaired", 0),
        records_revoked=score.records.get("revoked", 0), d_records=f"{d['records']:g}") \
        + texts.SCORE_RANK_LINE.format(rank=rank, ranked=ranked)


@door(roles=SUPERVISORS, reads=True)
async def score_command(turn: Turn) -> None:
    """/score: ranking; /score DEPT [period]: one department's score; /score formula: how it is computed."""
    svc, args = turn.svc, turn.args
    if args and args[0].lower() in ("formula", "公式", "计分办法"):
        turn.reply(formula_text())
        return
    region = scope.supervisor_region(turn.actor)
    period_words = [a for a in args if looks_like_period(a)]
    words = [a for a in args if not looks_like_period(a)]
    period = parse_period(period_words[0] if period_words else "", today=today_of(turn.now, svc), tz=svc.settings.tz)
    departments = None
    if words:
        query = " ".join(words)
        departments = await departments_in_scope(session=turn.session, actor=turn.actor, query=query,
                                                 refuse_outside=True)
        if not departments:
            raise DomainError("score_department_not_found", query=query[:64])
    # One computation: every department in scope, so a department's rank is the one the ranking shows.
    scores = await department_scores(session=turn.session, period=period, now=turn.now, region=region,
                                     calendar=svc.deadlines.calendar)
    ranked = ranking(scores)
    if departments:
        ranks = standings(scores)
        wanted = {d.id for d in departments[:3]}
        turn.reply("\n\n".join(score_detail(s, period, ranks[s.department_id], len(ranked))
                                for s in scores if s.department_id in wanted))
        return
    if not ranked:
        turn.reply(texts.SCORE_NO_ACTIVITY.format(period=period.label, region=region_note(region)))
        return
    lines = [texts.SCORE_RANKING_LINE.format(rank=rank, department=texts.esc(s.name), score=f"{s.score:g}",
                                             grade=texts.GRADE_LABELS[s.grade]) for rank, s in ranked]
    if len(lines) > 40:
        lines = lines[:20] + [texts.SCORE_RANKING_MORE.format(n=len(lines) - 40)] + lines[-20:]
    header = texts.SCORE_RANKING_HEADER.format(period=period.label, region=region_note(region))
    inactive = len(scores) - len(ranked)
    footer = texts.SCORE_INACTIVE_NOTE.format(n=inactive) if inactive else ""
    turn.reply(header + "\n" + fit_lines(lines) + footer)


# --- wiring ------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Add this module's commands and the 已阅 button (bot.app calls it before the catch-all handlers)."""
    for name, callback in {"stats": stats_command, "report": report_command, "score": score_command}.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(report_read_button, pattern=REPORT_READ.pattern))
