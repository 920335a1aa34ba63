"""The supervisors' dashboard (督办工作台), login required; officials get a read-only view of their department.

Login: /web in the bot sends a one-time link to /login/{token}; the page's button POSTs it back (so a
link previewer fetching the URL does not use it up), which opens a session (bot.domain.weblogin) and
sets the signed cookie. Every route below resolves the session and its actor afresh and reads through
the scope function (bot.domain.scope): cases, departments and records outside the actor's scope are
answered like missing ones. Decisions by form call the same domain functions as the bot's buttons
(handlers/supervisor.py decision_button), append the same audit events, and queue the officials'
messages in the outbound table in the same transaction; the bot's delivery job sends them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.db.models import Case, Commitment, Department, DishonestyRecord, Extension, Obligation
from bot.domain import casework, records, scope, weblogin
from bot.domain.audit import case_events
from bot.domain.cases import case_for, evidence_count, supplements_of
from bot.domain.departments import region_label, region_names
from bot.domain.errors import DomainError
from bot.domain.officials import officials_of
from bot.domain.outbox import enqueue
from bot.domain.records import record_of_case
from bot.domain.reports import department_workbook, monthly_review, report_filename, trend_chart
from bot.domain.roles import Actor, Role
from bot.domain.stats import CaseFilter, overdue_by_department, period_stats, search_cases, working_days_late
from bot.web import texts_web
from bot.web.auth import COOKIE, clear_session_cookie, set_session_cookie
from bot.web.paging import Pager, choice, department_choice, page_count, page_number, parse_month_param
from bot.web.security import client_address
from bot.web.site import state

PAGE_SIZE = 20
CASE_STATUSES = tuple(texts_web.CASE_STATUS)


@dataclass
class Visit:
    """One dashboard request: its database session, who is acting, and their session id (for CSRF)."""

    session: AsyncSession
    actor: Actor
    session_id: str

    @property
    def is_supervisor(self) -> bool:
        return self.actor.role is Role.SUPERVISOR


@asynccontextmanager
async def visit(request: web.Request, *, reads: bool = False) -> AsyncIterator[Visit]:
    """The session and actor of a logged-in request; a redirect to the login help page otherwise.
    `reads`: a page that only reads gets a read session, so rendering it never holds up a writer."""
    web_state = state(request)
    svc = web_state.services
    session_id = web_state.signer.session_id(request.cookies.get(COOKIE))
    async with (svc.db.read_session() if reads else svc.db.session()) as session:
        actor = None
        if session_id is not None:
            actor = await weblogin.session_actor(session=session, session_id=session_id, now=svc.clock.now(),
                                                 supervisors=svc.settings.supervisors)
        if actor is None:
            raise web.HTTPSeeOther("/dashboard/login")
        yield Visit(session, actor, session_id)


async def render(request: web.Request, template: str, v: Visit, **context) -> web.Response:
    svc = state(request).services
    regions = await region_names(session=v.session)
    response = aiohttp_jinja2.render_template(template, request, {
        **context, "me": v.actor, "role_name": texts_web.ROLE_NAMES[v.actor.role.value], "regions": regions,
        "region": region_label(scope.supervisor_region(v.actor), regions),
        "csrf": state(request).signer.csrf_token(v.session_id),
        "is_supervisor": v.is_supervisor, "tz": svc.settings.tz, "nav": context.get("nav", "dashboard")})
    response.headers["Cache-Control"] = "no-store"
    return response


async def check_csrf(request: web.Request, v: Visit) -> dict:
    form = await request.post()
    if not state(request).signer.csrf_ok(v.session_id, form.get("csrf")):
        raise web.HTTPForbidden(text=texts_web.BAD_FORM)
    return dict(form)


# --- login and logout ------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    response = aiohttp_jinja2.render_template("login.html", request, {"token": request.match_info["token"][:128],
                                                                      "nav": "login"})
    response.headers["Cache-Control"] = "no-store"
    return response


async def login_help(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("login_help.html", request, {"nav": "login"})


async def login(request: web.Request) -> web.Response:
    web_state = state(request)
    if not web_state.login_limit.allow(client_address(request)):
        raise web.HTTPTooManyRequests(text=texts_web.TOO_MANY, headers={"Retry-After": "60"})
    svc = web_state.services
    form = await request.post()
    async with svc.db.session() as session:
        session_id = await weblogin.redeem_link(session=session, token=str(form.get("token", "")),
                                                now=svc.clock.now())
        await session.commit()
    if session_id is None:
        raise web.HTTPForbidden(text=texts_web.LOGIN_EXPIRED)
    response = web.HTTPSeeOther("/dashboard")
    set_session_cookie(response, request, web_state.signer, session_id, base_url=svc.settings.web_base_url,
                       max_age=int(weblogin.SESSION_LIFETIME.total_seconds()))
    raise response


async def logout(request: web.Request) -> web.Response:
    svc = state(request).services
    async with visit(request) as v:
        await check_csrf(request, v)
        await weblogin.end_session(session=v.session, session_id=v.session_id, now=svc.clock.now())
        await v.session.commit()
    response = web.HTTPSeeOther("/")
    clear_session_cookie(response)
    raise response


# --- cases --------------------------------------------------------------------------------------------


def scoped_filter(v: Visit, **given) -> CaseFilter:
    """The filter of /cases, narrowed to what the actor may see (the scope function's rules)."""
    if v.actor.role is Role.OFFICIAL:
        given["department_id"] = v.actor.account.department_id
    return CaseFilter(region=scope.supervisor_region(v.actor), **given)


async def visible_departments(v: Visit) -> list[Department]:
    rows = await v.session.scalars(select(Department).where(
        scope.departments_clause(v.actor, Department.id), Department.active.is_(True)).order_by(Department.code))
    return list(rows.unique().all())


async def cases_page(request: web.Request) -> web.Response:
    svc = state(request).services
    tz = svc.settings.tz
    q = request.query
    now = svc.clock.now()
    async with visit(request, reads=True) as v:
        departments = await visible_departments(v)
        department = department_choice(request, departments)
        period = parse_month_param(q.get("month"), now.astimezone(tz).date(), tz) if q.get("month") else None
        words = tuple(w[:40] for w in q.get("q", "").split()[:3] if w)
        given = {"status": choice(request, "status", CASE_STATUSES),
                 "domain": choice(request, "domain", texts.DOMAIN_LABELS),
                 "overdue": q.get("overdue") == "1", "period": period, "words": words}
        if department is not None:
            given["department_id"] = department.id
        flt = scoped_filter(v, **given)
        page = page_number(request)
        found, total = await search_cases(session=v.session, flt=flt, now=now, offset=(page - 1) * PAGE_SIZE,
                                          limit=PAGE_SIZE)
        found = [c for c in found if scope.may_see_case(v.actor, c)]
        selected = {"status": given["status"] or "", "domain": given["domain"] or "",
                    "department": department.code if department else "",
                    "month": q.get("month", "") if period else "", "q": " ".join(words), "overdue": given["overdue"]}
        return await render(request, "dash_cases.html", v, nav="cases", cases=found, total=total,
                            paging=Pager(page, page_count(total, PAGE_SIZE), selected), departments=departments,
                            selected=selected)


def clock_state(svc, clock: Obligation) -> str:
    if clock.state != "open":
        return texts.CLOCK_STATE_LABELS.get(clock.state, clock.state)
    now, tz, calendar = svc.clock.now(), svc.settings.tz, svc.deadlines.calendar
    if clock.due_at < now:
        late = working_days_late(calendar, clock.due_at, now, tz)
        return texts.CLOCK_OPEN_LATE.format(n=late) if late else texts.CLOCK_OPEN_LATE_UNDER_ONE
    left = calendar.working_days_between(now.astimezone(tz).date(), clock.due_at.astimezone(tz).date())
    return texts.CLOCK_OPEN_LEFT.format(n=left) if left > 0 else texts.CLOCK_OPEN_TODAY


async def case_page(request: web.Request) -> web.Response:
    svc = state(request).services
    async with visit(request, reads=True) as v:
        try:
            case = await case_for(session=v.session, raw_ref=request.match_info["ref"][:40], actor=v.actor)
        except DomainError:
            raise web.HTTPNotFound() from None
        s = v.session
        clocks = (await s.scalars(select(Obligation).where(Obligation.case_id == case.id).order_by(Obligation.id))).all()
        commitments = (await s.scalars(select(Commitment).where(Commitment.case_id == case.id)
                                       .order_by(Commitment.id))).unique().all()
        extensions = (await s.scalars(select(Extension).where(Extension.case_id == case.id)
                                      .order_by(Extension.id))).all()
        record = await record_of_case(session=s, case_id=case.id)
        events = await case_events(session=s, case_id=case.id)
        supplements = await supplements_of(session=s, case_id=case.id)
        evidence = await evidence_count(session=s, case_id=case.id)
        identity = scope.sees_identity(v.actor, case)
        full_text = scope.sees_full_text(v.actor, case)
        return await render(
            request, "dash_case.html", v, nav="cases", case=case, identity=identity,
            text=case.text if full_text else case.text_masked,
            supplements=[(x.created_at, x.text if full_text else x.text_masked) for x in supplements],
            clocks=[(c, clock_state(svc, c)) for c in clocks], commitments=commitments, extensions=extensions,
            record=record, events=events, evidence=evidence, done=request.query.get("done", ""),
            may_decide=v.is_supervisor)


# --- decisions by form: the same domain functions and audit as the bot's buttons --------------------


async def _notify_officials(session: AsyncSession, department_id: int, text: str, now) -> int:
    """The officials' message about a decision: outbound rows in the deciding transaction."""
    people = await officials_of(session=session, department_id=department_id)
    for person in people:
        if not person.unreachable:
            enqueue(session=session, chat_id=person.telegram_id, account_id=person.id, kind="decision", text=text,
                    now=now)
    return len(people)


async def decide(request: web.Request) -> web.Response:
    svc = state(request).services
    now = svc.clock.now()
    async with visit(request) as v:
        form = await check_csrf(request, v)
        if not v.is_supervisor:
            raise web.HTTPForbidden()
        kind, raw_id, verdict = form.get("kind", ""), form.get("id", ""), form.get("verdict", "")
        if kind not in texts_web.DECISION_DONE or not str(raw_id).isdigit() or verdict not in ("0", "1"):
            raise web.HTTPBadRequest(text=texts_web.BAD_FORM)
        approve = verdict == "1"
        s = v.session
        try:
            if kind == "exd":
                extension = await s.get(Extension, int(raw_id))
                case = await s.get(Case, extension.case_id) if extension else None
                if case is None or not scope.may_see_case(v.actor, case):
                    raise web.HTTPNotFound()
                case = await casework.decide_extension(session=s, extension=extension, actor=v.actor,
                                                       approve=approve, now=now, deadlines=svc.deadlines)
                notice = (texts.EXTENSION_GRANTED.format(ref=case.ref, due=extension.requested_due_on.isoformat())
                          if approve else texts.EXTENSION_DENIED.format(ref=case.ref))
                await _notify_officials(s, case.department_id, notice, now)
            elif kind == "cmd":
                commitment = await s.get(Commitment, int(raw_id))
                if commitment is None or commitment.case_id is None or \
                        not scope.may_see_department(v.actor, commitment.department):
                    raise web.HTTPNotFound()
                case = await casework.decide_commitment(session=s, commitment=commitment, actor=v.actor,
                                                        approve=approve, now=now, deadlines=svc.deadlines)
                template = texts.COMMIT_APPROVED_OFFICIAL if approve else texts.COMMIT_RETURNED_OFFICIAL
                await _notify_officials(s, commitment.department_id,
                                        template.format(ref=case.ref, due=commitment.due_on.isoformat()), now)
            else:
                record = await s.get(DishonestyRecord, int(raw_id))
                if record is None or not scope.may_see_record(v.actor, record):
                    raise web.HTTPNotFound()
                case = await s.get(Case, record.case_id) if record.case_id else None
                ref = case.ref if case else str(record.id)
                if kind == "obd":
                    await records.decide_objection(session=s, record=record, actor=v.actor, uphold=approve, now=now)
                    notice = texts.OBJECTION_DECIDED.format(
                        ref=ref, decision=texts.BTN_UPHOLD if approve else texts.BTN_OVERRULE)
                else:
                    await records.decide_repair(session=s, record=record, actor=v.actor, approve=approve, now=now)
                    notice = texts.REPAIR_DECIDED.format(
                        ref=ref, decision=texts.BTN_REPAIR_OK if approve else texts.BTN_REPAIR_NO)
                await _notify_officials(s, record.department_id, notice, now)
        except DomainError as refusal:
            raise web.HTTPConflict(text=texts.refusal(refusal.code, refusal.params).replace("<code>", "")
                                   .replace("</code>", "")) from None
        await s.commit()
        state(request).scores.clear()
        target = f"/dashboard/cases/{case.ref}" if case is not None else "/dashboard"
    raise web.HTTPSeeOther(f"{target}?done={kind}{verdict}")


# --- overdue, statistics, the workbook ---------------------------------------------------------------


async def overdue_page(request: web.Request) -> web.Response:
    svc = state(request).services
    async with visit(request, reads=True) as v:
        groups = await overdue_by_department(session=v.session, now=svc.clock.now(),
                                             region=scope.supervisor_region(v.actor),
                                             calendar=svc.deadlines.calendar, tz=svc.settings.tz)
        if v.actor.role is Role.OFFICIAL:
            groups = [g for g in groups if g.department_id == v.actor.account.department_id]
        return await render(request, "dash_overdue.html", v, nav="overdue", groups=groups)


def _require_supervisor(v: Visit) -> None:
    if not v.is_supervisor:
        raise web.HTTPForbidden()


async def stats_page(request: web.Request) -> web.Response:
    svc = state(request).services
    tz = svc.settings.tz
    today = svc.clock.now().astimezone(tz).date()
    period = parse_month_param(request.query.get("month"), today, tz)
    async with visit(request, reads=True) as v:
        _require_supervisor(v)
        stats = await period_stats(session=v.session, period=period, region=scope.supervisor_region(v.actor))
        return await render(request, "dash_stats.html", v, nav="stats", stats=stats, period=period)


async def chart(request: web.Request) -> web.Response:
    svc = state(request).services
    tz = svc.settings.tz
    period = parse_month_param(request.query.get("month"), svc.clock.now().astimezone(tz).date(), tz)
    async with visit(request, reads=True) as v:
        _require_supervisor(v)
        png, _ = await trend_chart(session=v.session, period=period, region=scope.supervisor_region(v.actor))
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=300"})


async def workbook(request: web.Request) -> web.Response:
    """The monthly review workbook of the actor's scope (an official: their department's sheet)."""
    svc = state(request).services
    tz = svc.settings.tz
    now = svc.clock.now()
    period = parse_month_param(request.query.get("month"), now.astimezone(tz).date(), tz)
    async with visit(request, reads=True) as v:
        if v.is_supervisor:
            region = scope.supervisor_region(v.actor)
            review = await monthly_review(session=v.session, period=period, now=now, region=region,
                                          calendar=svc.deadlines.calendar)
            body, name = review.workbook, report_filename(period, region)
        else:
            department = await v.session.get(Department, v.actor.account.department_id)
            body = await department_workbook(session=v.session, period=period, now=now, department=department,
                                             calendar=svc.deadlines.calendar)
            name = report_filename(period, department.code)
    if body is None:
        raise web.HTTPNotFound(text=texts_web.REPORT_EMPTY.format(month=period.label))
    from urllib.parse import quote

    return web.Response(body=body, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login/{token}", login_page, name="login_page")
    app.router.add_post("/login", login, name="login")
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/dashboard/login", login_help, name="login_help")
    app.router.add_get("/dashboard", cases_page, name="dashboard")
    app.router.add_get("/dashboard/cases/{ref}", case_page, name="dashboard_case")
    app.router.add_post("/dashboard/decide", decide, name="decide")
    app.router.add_get("/dashboard/overdue", overdue_page, name="overdue")
    app.router.add_get("/dashboard/stats", stats_page, name="stats")
    app.router.add_get("/dashboard/stats/chart.png", chart, name="chart")
    app.router.add_get("/dashboard/report.xlsx", workbook, name="workbook")
