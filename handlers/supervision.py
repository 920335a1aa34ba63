"""Finding cases (督办): /find by words, /cases by filters, /overdue by department.

`register(application)` adds every trigger of this module (`register_supervision_handlers` is its old
name). /cases here takes filters and keeps `/cases [status] [page]` working. Every list is limited to the
acting supervisor's scope (bot.domain.scope). The numbers (/stats, /report, /score) are in handlers.review.
"""

from __future__ import annotations

import math
from datetime import date

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Department
from bot.domain import filters, scope
from bot.domain.errors import DomainError
from bot.domain.lifecycle import Status
from bot.domain.stats import CaseFilter, Period, looks_like_period, overdue_by_department, parse_period, search_cases
from bot.domain.supervision_reads import department_in_scope, departments_in_scope
from handlers.codec import BadData, Codec, Int
from handlers.door import SUPERVISORS, Turn, door
from handlers.views import fit_lines, region_note, today_of

PAGE_SIZE = 10
MAX_PAGE = 100_000
STATUS_ORDER = [s.value for s in Status]
DOMAIN_ORDER = list(texts.DOMAIN_LABELS)
CALLBACK_LIMIT = 64

# --- callback data ---------------------------------------------------------------------------------


class FindQuery:
    """Free text typed by a supervisor (a /find query), kept in button data without ':'."""

    def parse(self, raw: str) -> str:
        if not raw or len(raw.encode()) > CALLBACK_LIMIT or not raw.strip():
            raise BadData(raw)
        return raw


class OrEmpty:
    """Empty, or what `part` parses."""

    def __init__(self, part) -> None:
        self.part = part

    def parse(self, raw: str):
        return None if raw == "" else self.part.parse(raw)


class Day:
    """A date as YYYYMMDD."""

    def parse(self, raw: str) -> date:
        if len(raw) != 8 or not raw.isascii() or not raw.isdigit():
            raise BadData(raw)
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError as error:
            raise BadData(raw) from error


class Flags:
    """Status index, domain index (or '-' for none) and the overdue flag: e.g. `3-1`."""

    def parse(self, raw: str) -> tuple[str | None, str | None, bool]:
        if len(raw) != 3 or not raw.isascii() or raw[2] not in "01":
            raise BadData(raw)
        return _index(raw[0], STATUS_ORDER), _index(raw[1], DOMAIN_ORDER), raw[2] == "1"


def _index(raw: str, choices: list[str]) -> str | None:
    if raw == "-":
        return None
    if not raw.isdigit() or int(raw) >= len(choices):
        raise BadData(raw)
    return choices[int(raw)]


PAGE = Int(1, MAX_PAGE)
FIND_PAGE = Codec("fd", FindQuery(), PAGE)
CASES_PAGE = Codec("cf", Flags(), OrEmpty(Int()), OrEmpty(Day()), OrEmpty(Day()), PAGE)



def _template(template: str, key: str, value: str) -> str:
    """Put `value` (already escaped HTML) into a template that is formatted again later."""
    return template.replace("{" + key + "}", value.replace("{", "{{").replace("}", "}}"))




# --- /find and filtered /cases ---------------------------------------------------------------------


def _fit_callback(prefix: str, query: str, reserve: int = 7) -> str:
    """The longest start of `query` (without ':') whose callback `prefix:query:PAGE` stays within 64 bytes."""
    query = " ".join(query.replace(":", " ").split())
    budget = CALLBACK_LIMIT - len(prefix.encode()) - 1 - 1 - reserve
    while len(query.encode()) > budget:
        query = query[:-1]
    return query.strip()


async def _case_page(turn: Turn, flt: CaseFilter, page: int, header: str, empty: str, prefix: str) -> None:
    tz = turn.svc.settings.tz
    cases, total = await search_cases(session=turn.session, flt=flt, now=turn.now, actor=turn.actor,
                                      offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if total == 0:
        turn.reply(empty)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = [header.format(total=total, page=page, pages=pages)] + [
        texts.CASE_LINE.format(ref=c.ref, status=texts.status_label(c.status), domain=texts.domain_label(c.domain),
                               date=texts.local_date(c.created_at, tz))
        + (f" · {texts.esc(c.department.name)}" if c.department else "")
        for c in cases
    ]
    turn.reply("\n".join(lines), reply_markup=keyboards.case_list([c.ref for c in cases], prefix, page, pages))


@door(roles=SUPERVISORS, reads=True)
async def find_command(turn: Turn) -> None:
    """Cases whose text, reference or department name matches every word, newest first (/find WORDS)."""
    query = _fit_callback(FIND_PAGE.prefix, " ".join(turn.args))
    if not query:
        turn.reply(texts.USAGE_FIND)
        return
    await _find_page(turn, query, 1)


async def _find_page(turn: Turn, query: str, page: int) -> None:
    flt = CaseFilter(words=tuple(query.split()[:5]))
    shown = texts.esc(query)
    await _case_page(turn, flt, page, _template(texts.FIND_HEADER, "query", shown),
                     texts.FIND_EMPTY.format(query=shown), f"{FIND_PAGE.prefix}:{query}")


@door(roles=SUPERVISORS, codec=FIND_PAGE, reads=True)
async def find_page_button(turn: Turn) -> None:
    """Pages of /find (fd:QUERY:PAGE)."""
    query, page = turn.data
    await _find_page(turn, query, page)


def _encode_filter(flt: CaseFilter) -> str:
    """A filter as callback data: cf:<status><domain><overdue>:<dept>:<start>:<end> (+ :PAGE by the pager)."""
    status = str(STATUS_ORDER.index(flt.status)) if flt.status else "-"
    domain = str(DOMAIN_ORDER.index(flt.domain)) if flt.domain else "-"
    start = f"{flt.period.start:%Y%m%d}" if flt.period else ""
    end = f"{flt.period.end:%Y%m%d}" if flt.period else ""
    return f"{CASES_PAGE.prefix}:{status}{domain}{1 if flt.overdue else 0}:{flt.department_id or ''}:{start}:{end}"


def _decode_filter(data: tuple, tz) -> tuple[CaseFilter, int]:
    (status, domain, overdue), department, first, last, page = data
    period = None
    if first and last:
        if last < first or (last - first).days > 366:
            raise DomainError("stale")
        candidate = parse_period(first.strftime("%Y-%m"), today=first, tz=tz)
        period = candidate if (candidate.start, candidate.end) == (first, last) else Period(first, last, tz)
    elif first or last:
        raise DomainError("stale")
    flt = CaseFilter(status=status, domain=domain, overdue=overdue, department_id=department, period=period)
    return flt, page


def _filter_label(flt: CaseFilter, department_name: str | None) -> str:
    parts = []
    if flt.status:
        parts.append(texts.status_label(flt.status))
    if flt.domain:
        parts.append(texts.domain_label(flt.domain))
    if department_name:
        parts.append(texts.esc(department_name))
    if flt.overdue:
        parts.append(texts.FILTER_OVERDUE)
    if flt.period:
        parts.append(flt.period.label)
    return "：" + " · ".join(parts) if parts else ""


async def _filtered_page(turn: Turn, flt: CaseFilter, page: int, department_name: str | None = None) -> None:
    if flt.plain:
        header = _template(texts.CASES_HEADER, "status", f"：{texts.status_label(flt.status)}" if flt.status else "")
    else:
        header = _template(texts.CASES_FILTER_HEADER, "filters", _filter_label(flt, department_name))
    await _case_page(turn, flt, page, header, texts.CASES_EMPTY, _encode_filter(flt))


@door(roles=SUPERVISORS, reads=True)
async def cases_command(turn: Turn) -> None:
    """/cases [状态] [领域] [部门] [逾期] [时间段] [页码], in any order, in Chinese or codes (bot.domain.filters)."""
    tz = turn.svc.settings.tz
    status = domain = period = None
    department: Department | None = None
    overdue = False
    page = 1
    for arg in turn.args:
        lowered = arg.lower()
        if arg.isascii() and arg.isdigit() and 1 <= len(arg) <= 6 and int(arg) >= 1:
            page = int(arg)
        elif filters.status_of(arg):
            status = filters.status_of(arg)
        elif filters.domain_of(arg):
            domain = filters.domain_of(arg)
        elif filters.is_overdue_word(arg):
            overdue = True
        elif lowered.startswith(("dept=", "部门=")):
            query = arg.split("=", 1)[1]
            found = await departments_in_scope(session=turn.session, actor=turn.actor, query=query)
            if not found:
                raise DomainError("cases_department_not_found", query=query[:64])
            department = found[0]
        elif looks_like_period(arg):
            period = parse_period(arg, today=today_of(turn.now, turn.svc), tz=tz)
        elif department is None and (found := await departments_in_scope(session=turn.session, actor=turn.actor,
                                                                            query=arg)):
            department = found[0]  # a department's name, code or alias (市财政局, 财政局, city-czj)
        else:
            turn.reply(texts.CASES_BAD_FILTER.format(
                status=texts.esc(arg[:40]), statuses=filters.accepted_statuses(),
                domains=filters.accepted_domains(), periods=texts.PERIOD_FORMS))
            return
    flt = CaseFilter(status=status, domain=domain, department_id=department.id if department else None,
                     overdue=overdue, period=period)
    await _filtered_page(turn, flt, page, department.name if department else None)


@door(roles=SUPERVISORS, codec=CASES_PAGE, reads=True)
async def cases_filter_button(turn: Turn) -> None:
    """Pages of a filtered /cases (cf:...:PAGE)."""
    flt, page = _decode_filter(turn.data, turn.svc.settings.tz)
    name = None
    if flt.department_id is not None:
        department = await department_in_scope(session=turn.session, actor=turn.actor,
                                               department_id=flt.department_id)
        if department is None:
            raise DomainError("stale")
        name = department.name
    await _filtered_page(turn, flt, page, name)




# --- /overdue ----------------------------------------------------------------------------------------


@door(roles=SUPERVISORS, reads=True)
async def overdue_command(turn: Turn) -> None:
    """Every open clock past due, by department, in working days (/overdue)."""
    svc, now = turn.svc, turn.now
    tz = svc.settings.tz
    region = scope.supervisor_region(turn.actor)
    groups = await overdue_by_department(session=turn.session, now=now, region=region,
                                         calendar=svc.deadlines.calendar, tz=tz)
    if not groups:
        turn.reply(texts.OVERDUE_EMPTY.format(region=region_note(region)))
        return
    header = texts.OVERDUE_HEADER.format(region=region_note(region), now=texts.local_time(now, tz),
                                         count=sum(g.count for g in groups), departments=len(groups))
    blocks = []
    for group in groups:
        block = [texts.OVERDUE_DEPT_LINE.format(
            department=texts.esc(group.name) if group.name else texts.OVERDUE_UNASSIGNED, count=group.count,
            days=group.working_days, max_days=group.max_working_days)]
        block += [texts.OVERDUE_ITEM_LINE.format(ref=item.ref or texts.OVERDUE_NO_REF,
                                                 kind=texts.CLOCK_LABELS.get(item.kind, item.kind),
                                                 due=texts.local_date(item.due_at, tz),
                                                 late=texts.late_text(item.working_days))
                  for item in group.items]
        if group.count > len(group.items):
            block.append(texts.OVERDUE_ITEM_MORE.format(n=group.count - len(group.items)))
        blocks.append("\n".join(block))
    turn.reply(header + "\n" + fit_lines(blocks, texts.OVERDUE_MORE))


# --- wiring ------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Add this module's commands and buttons (bot.app calls it before the catch-all handlers)."""
    for name, callback in {"find": find_command, "cases": cases_command, "overdue": overdue_command}.items():
        application.add_handler(CommandHandler(name, callback))
    for codec, callback in ((FIND_PAGE, find_page_button), (CASES_PAGE, cases_filter_button)):
        application.add_handler(CallbackQueryHandler(callback, pattern=codec.pattern))


register_supervision_handlers = register  # the name bot.app called once; tests still use it

__all__ = ["register", "register_supervision_handlers"]
