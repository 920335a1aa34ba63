"""The public pages (no login): 政务失信记录公示, 承诺公开, 部门诚信评价, each department's page.

Read-only, server-rendered, no JavaScript. Everything shown comes from bot.domain.disclosure, which
masks every text and applies the [disclosure] rules of the policy file.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot import texts
from bot.domain import disclosure
from bot.domain.commitments import PUBLIC_STATES
from bot.domain.scores import FORMULA_WEIGHTS
from bot.domain.departments import region_label, region_names
from bot.web import texts_web
from bot.web.paging import Pager, choice, department_choice, page_number, parse_month_param, year_choice
from bot.web.site import state

PER_PAGE = 50
SCORE_MONTHS = 12
DEPARTMENT_MONTHS = 6


def formula_text() -> str:
    """The same formula /score formula shows, from the same weights."""
    return texts.SCORE_FORMULA.format(**FORMULA_WEIGHTS)


def rules_explained(policy, counts: list[disclosure.RuleCount] | None = None) -> list[dict]:
    """Each [disclosure] rule as the page states it, with how many records it withheld."""
    hidden = {c.key: c.hidden for c in counts or []}
    rules = []
    for key, setting in (("tolerated", policy.disclose_tolerated), ("repaired", policy.disclose_repaired),
                         ("objection_pending", policy.disclose_objection_pending), ("revoked", "hide")):
        rules.append({"key": f"disclosure.{key}" if key != "revoked" else "disclosure", "name": texts_web.RULE_NAMES[key],
                      "text": texts_web.RULE_TEXT[(key, setting)], "hidden": hidden.get(key, 0)})
    rules.append({"key": "disclosure.public_years", "name": texts_web.RULE_NAMES["public_years"],
                  "text": texts_web.RULE_YEARS.format(years=policy.disclose_years),
                  "hidden": hidden.get("public_years", 0)})
    return rules


async def index(request: web.Request) -> web.Response:
    svc = state(request).services
    async with svc.db.read_session() as session:
        records = await disclosure.published_records(
            session=session, totals=state(request).totals, policy=svc.policy, now=svc.clock.now(), tz=svc.settings.tz,
            flt=disclosure.RecordFilter(), per_page=5, with_rules=False)
        commitments = await disclosure.public_commitments(session=session, tz=svc.settings.tz, per_page=5,
                                                          with_versions=False)
    return aiohttp_jinja2.render_template("index.html", request, {
        "records": records, "commitments": commitments, "nav": "index"})


async def records_page(request: web.Request) -> web.Response:
    svc = state(request).services
    tz = svc.settings.tz
    async with svc.db.read_session() as session:
        departments = await disclosure.public_departments(session=session)
        department = department_choice(request, departments)
        domain = choice(request, "domain", texts.DOMAIN_LABELS)
        year = year_choice(request)
        flt = disclosure.RecordFilter(department.id if department else None, domain, year)
        found = await disclosure.published_records(session=session, totals=state(request).totals, policy=svc.policy, now=svc.clock.now(), tz=tz,
                                                   flt=flt, page=page_number(request), per_page=PER_PAGE)
        years = await disclosure.record_years(session=session, tz=tz)
        regions = await region_names(session=session)
    selected = {"department": department.code if department else "", "domain": domain or "", "year": year or ""}
    return aiohttp_jinja2.render_template("records.html", request, {
        "nav": "records", "found": found, "departments": departments, "years": years, "regions": regions,
        "selected": selected, "paging": Pager(found.page, found.pages, selected),
        "year_options": [(y, texts_web.YEAR.format(year=y)) for y in years],
        "rules": rules_explained(svc.policy, found.rules),
    })


async def commitments_page(request: web.Request) -> web.Response:
    svc = state(request).services
    async with svc.db.read_session() as session:
        departments = await disclosure.public_departments(session=session)
        department = department_choice(request, departments)
        status = choice(request, "status", PUBLIC_STATES)
        found = await disclosure.public_commitments(session=session, tz=svc.settings.tz,
                                                    department_id=department.id if department else None,
                                                    status=status, page=page_number(request), per_page=PER_PAGE)
        regions = await region_names(session=session)
    selected = {"department": department.code if department else "", "status": status or ""}
    return aiohttp_jinja2.render_template("commitments.html", request, {
        "nav": "commitments", "found": found, "departments": departments,
        "regions": regions, "selected": selected, "paging": Pager(found.page, found.pages, selected),
        "status_options": [(s, texts_web.COMMITMENT_STATUS[s]) for s in PUBLIC_STATES],
        "bot": state(request).bot_username,
    })


async def commitment_page(request: web.Request) -> web.Response:
    svc = state(request).services
    key = request.match_info["key"]
    async with svc.db.read_session() as session:
        found = await disclosure.public_commitment(session=session, tz=svc.settings.tz, key=key[:32])
    if found is None:
        raise web.HTTPNotFound()
    return aiohttp_jinja2.render_template("commitment.html", request, {
        "nav": "commitments", "c": found, "bot": state(request).bot_username})


async def scores_page(request: web.Request) -> web.Response:
    web_state = state(request)
    svc = web_state.services
    tz = svc.settings.tz
    today = svc.clock.now().astimezone(tz).date()
    period = parse_month_param(request.query.get("month"), today, tz)
    async with svc.db.read_session() as session:
        month = await web_state.scores.month(session=session, period=period, now=svc.clock.now(),
                                             calendar=svc.deadlines.calendar)
    return aiohttp_jinja2.render_template("scores.html", request, {
        "nav": "scores", "month": month, "months": disclosure.recent_months(today, tz, SCORE_MONTHS)[::-1],
        "formula": formula_text(),
    })


async def departments_page(request: web.Request) -> web.Response:
    svc = state(request).services
    async with svc.db.read_session() as session:
        departments = await disclosure.public_departments(session=session)
        regions = await region_names(session=session)
    return aiohttp_jinja2.render_template("departments.html", request, {
        "nav": "departments", "departments": departments, "regions": regions})


async def department_page(request: web.Request) -> web.Response:
    web_state = state(request)
    svc = web_state.services
    tz = svc.settings.tz
    now = svc.clock.now()
    today = now.astimezone(tz).date()
    async with svc.db.read_session() as session:
        department = await disclosure.department_by_code(session=session, code=request.match_info["code"][:64])
        if department is None:
            raise web.HTTPNotFound()
        region = region_label(department.region, await region_names(session=session))
        records = await disclosure.published_records(
            session=session, totals=state(request).totals, policy=svc.policy, now=now, tz=tz,
            flt=disclosure.RecordFilter(department_id=department.id), per_page=PER_PAGE, with_rules=False)
        commitments = await disclosure.public_commitments(session=session, tz=tz, department_id=department.id,
                                                          per_page=PER_PAGE, with_versions=False)
        history = []
        months = disclosure.recent_months(today, tz, DEPARTMENT_MONTHS)
        kept = await disclosure.kept_by_month(session=session, department_id=department.id,
                                              start=months[0].start, end=months[-1].end)
        for period in months[::-1]:
            month = await web_state.scores.month(session=session, period=period, now=now,
                                                 calendar=svc.deadlines.calendar)
            mine = next(((rank, s) for rank, s in month.ranked if s.department_id == department.id), None)
            history.append({"period": period, "rank": mine[0] if mine else None, "score": mine[1] if mine else None,
                            "of": len(month.ranked), "kept": kept.get(period.month_key)})
    return aiohttp_jinja2.render_template("department.html", request, {
        "nav": "departments", "d": department, "region": region, "records": records, "commitments": commitments,
        "history": history, "rules": rules_explained(svc.policy), "bot": web_state.bot_username,
    })


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index, name="index")
    app.router.add_get("/records", records_page, name="records")
    app.router.add_get("/commitments", commitments_page, name="commitments")
    app.router.add_get("/commitments/{key}", commitment_page, name="commitment")
    app.router.add_get("/scores", scores_page, name="scores")
    app.router.add_get("/departments", departments_page, name="departments")
    app.router.add_get("/departments/{code}", department_page, name="department")
