"""The open-data feed for the city's credit information system (信用盐城): the public data as JSON and CSV.

/open-data/records.{json,csv}, /open-data/commitments.{json,csv}, /open-data/scores.{json,csv}?month=YYYY-MM;
`page` and `per_page` (at most 500) paginate; every response carries an ETag (a digest of the body) and
Last-Modified, and answers 304 to a matching If-None-Match. Fields: docs/open-data.md; schema:
/open-data/schema.json (bot/web/static/open-data.schema.json). Rate-limited per address.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from bot import texts
from bot.domain import disclosure
from bot.domain.commitments import PUBLIC_STATES
from bot.domain.departments import region_label, region_names
from bot.web import texts_web
from bot.web.paging import page_number, parse_month_param
from bot.web.security import client_address
from bot.web.site import SCHEMA_FILE, state

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 100
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)

RECORD_FIELDS = ("id", "department_code", "department_name", "credit_code", "region", "region_name", "domain",
                 "domain_name",
                 "recorded_on", "summary", "status", "status_name", "rule", "updated_at")
COMMITMENT_FIELDS = ("ref", "department_code", "department_name", "credit_code", "domain", "domain_name", "content",
                     "source", "due_on", "amount", "status", "status_name", "version", "fulfilment", "fulfilled_on",
                     "registered_on", "updated_at")
SCORE_FIELDS = ("month", "rank", "department_code", "department_name", "credit_code", "region", "region_name",
                "score", "grade",
                "grade_name", "on_time_rate", "overdue_working_days", "reopen_rate", "satisfaction_index",
                "weighted_records", "deduction_on_time", "deduction_overdue", "deduction_reopen",
                "deduction_satisfaction", "deduction_records")


def _per_page(request: web.Request) -> int:
    raw = request.query.get("per_page", "")
    return max(1, min(int(raw), MAX_PER_PAGE)) if raw.isdigit() else DEFAULT_PER_PAGE


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def record_item(r: disclosure.PublicRecord, regions: dict[str, str]) -> dict:
    return {"id": r.id, "department_code": r.department_code, "department_name": r.department,
            "credit_code": r.credit_code, "region": r.region, "region_name": region_label(r.region, regions),
            "domain": r.domain,
            "domain_name": texts.DOMAIN_LABELS.get(r.domain, r.domain), "recorded_on": r.recorded_on.isoformat(),
            "summary": r.summary, "status": r.status, "status_name": texts_web.RECORD_STATUS[r.status],
            "rule": f"disclosure.{r.rule}" if r.rule else None, "updated_at": _iso(r.updated_at)}


def commitment_item(c: disclosure.PublicCommitment) -> dict:
    return {"ref": c.ref, "department_code": c.department_code, "department_name": c.department,
            "credit_code": c.credit_code, "domain": c.domain,
            "domain_name": texts.DOMAIN_LABELS.get(c.domain, c.domain) if c.domain else None,
            "content": c.content, "source": c.source, "due_on": c.due_on.isoformat(),
            "amount": str(c.amount) if c.amount is not None else None, "status": c.status,
            "status_name": texts_web.COMMITMENT_STATUS.get(c.status, c.status), "version": c.version,
            "fulfilment": c.fulfilment, "fulfilled_on": c.fulfilled_on.isoformat() if c.fulfilled_on else None,
            "registered_on": c.registered_on.isoformat(), "updated_at": _iso(c.updated_at),
            "versions": [{"version": v.version, "content": v.content, "due_on": v.due_on.isoformat(),
                          "amount": str(v.amount) if v.amount is not None else None, "reason": v.reason,
                          "approved_on": v.decided_on.isoformat() if v.decided_on else None} for v in c.versions]}


def score_item(month: str, rank: int, s, regions: dict[str, str]) -> dict:
    d = s.deductions
    return {"month": month, "rank": rank, "department_code": s.code, "department_name": s.name,
            "credit_code": None, "region": s.region, "region_name": region_label(s.region, regions),
            "score": s.score, "grade": s.grade,
            "grade_name": texts.GRADE_LABELS[s.grade], "on_time_rate": _round(s.on_time_rate),
            "overdue_working_days": s.overdue_working_days, "reopen_rate": _round(s.reopen_rate),
            "satisfaction_index": _round(s.satisfaction_index), "weighted_records": round(s.weighted_records, 2),
            "deduction_on_time": d["on_time"], "deduction_overdue": d["overdue"], "deduction_reopen": d["reopen"],
            "deduction_satisfaction": d["satisfaction"], "deduction_records": d["records"]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _csv(fields: tuple[str, ...], items: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for item in items:
        writer.writerow({k: ("" if v is None else v) for k, v in item.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def _respond(request: web.Request, *, dataset: str, fmt: str, fields: tuple[str, ...], items: list[dict],
             page: int, per_page: int, total: int, last_modified: datetime,
             extra: dict | None = None) -> web.Response:
    if fmt == "csv":
        body = _csv(fields, items)
        content_type = "text/csv; charset=utf-8"
    else:
        pages = max(1, -(-total // per_page))
        def link(n: int) -> str | None:
            return str(request.rel_url.update_query(page=n, per_page=per_page)) if 1 <= n <= pages else None
        document = {"dataset": dataset, **(extra or {}), "page": page, "per_page": per_page, "total": total,
                    "pages": pages, "next": link(page + 1), "prev": link(page - 1), "items": items}
        body = json.dumps(document, ensure_ascii=False, sort_keys=False).encode("utf-8")
        content_type = "application/json; charset=utf-8"
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified.astimezone(timezone.utc), usegmt=True),
               "Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*",
               "X-Total-Count": str(total)}
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{dataset}-p{page}.csv"'
    if _not_modified(request, etag, last_modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": content_type})


def _not_modified(request: web.Request, etag: str, last_modified: datetime) -> bool:
    given = request.headers.get("If-None-Match")
    if given is not None:
        return etag in [tag.strip() for tag in given.split(",")] or given.strip() == "*"
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _limited(request: web.Request) -> None:
    if not state(request).feed_limit.allow(client_address(request)):
        raise web.HTTPTooManyRequests(text=texts_web.TOO_MANY, headers={"Retry-After": "60"})


async def records_feed(request: web.Request) -> web.Response:
    _limited(request)
    svc = state(request).services
    fmt, page, per_page = request.match_info["fmt"], page_number(request), _per_page(request)
    now = svc.clock.now()
    async with svc.db.read_session() as session:
        found = await disclosure.published_records(session=session, totals=state(request).totals, policy=svc.policy, now=now,
                                                   tz=svc.settings.tz, flt=disclosure.RecordFilter(),
                                                   page=page, per_page=per_page, with_rules=False)
        regions = await region_names(session=session)
    items = [record_item(r, regions) for r in found.items]
    modified = max((r.updated_at for r in found.items), default=EPOCH)
    return _respond(request, dataset="dishonesty_records", fmt=fmt, fields=RECORD_FIELDS, items=items, page=page,
                    per_page=per_page, total=found.total, last_modified=modified)


async def commitments_feed(request: web.Request) -> web.Response:
    _limited(request)
    svc = state(request).services
    fmt, page, per_page = request.match_info["fmt"], page_number(request), _per_page(request)
    async with svc.db.read_session() as session:
        found = await disclosure.public_commitments(session=session, tz=svc.settings.tz, page=page,
                                                    per_page=per_page)
    items = [commitment_item(c) for c in found.items]
    modified = max((c.updated_at for c in found.items), default=EPOCH)
    return _respond(request, dataset="public_commitments", fmt=fmt, fields=COMMITMENT_FIELDS, items=items,
                    page=page, per_page=per_page, total=found.total,
                    last_modified=modified)


async def scores_feed(request: web.Request) -> web.Response:
    _limited(request)
    web_state = state(request)
    svc = web_state.services
    tz = svc.settings.tz
    now = svc.clock.now()
    period = parse_month_param(request.query.get("month"), now.astimezone(tz).date(), tz)
    fmt, page, per_page = request.match_info["fmt"], page_number(request), _per_page(request)
    async with svc.db.read_session() as session:
        month = await web_state.scores.month(session=session, period=period, now=now,
                                             calendar=svc.deadlines.calendar)
        codes = dict((d.code, d.credit_code) for d in await disclosure.public_departments(session=session))
        regions = await region_names(session=session)
    ranked = month.ranked[(page - 1) * per_page: page * per_page]
    items = []
    for rank, score in ranked:
        item = score_item(period.month_key, rank, score, regions)
        item["credit_code"] = codes.get(score.code)
        items.append(item)
    modified = min(now, period.end_at)
    return _respond(request, dataset="department_scores", fmt=fmt, fields=SCORE_FIELDS, items=items, page=page,
                    per_page=per_page, total=len(month.ranked), last_modified=modified,
                    extra={"month": period.month_key})


async def schema(request: web.Request) -> web.Response:
    return web.Response(body=SCHEMA_FILE.read_bytes(), content_type="application/schema+json", charset="utf-8")


async def open_data_page(request: web.Request) -> web.Response:
    import aiohttp_jinja2

    return aiohttp_jinja2.render_template("open_data.html", request, {
        "nav": "open-data", "records": RECORD_FIELDS, "commitments": COMMITMENT_FIELDS, "scores": SCORE_FIELDS,
        "statuses": PUBLIC_STATES})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/open-data", open_data_page, name="open_data")
    app.router.add_get("/open-data/schema.json", schema, name="open_data_schema")
    app.router.add_get(r"/open-data/records.{fmt:(json|csv)}", records_feed, name="feed_records")
    app.router.add_get(r"/open-data/commitments.{fmt:(json|csv)}", commitments_feed, name="feed_commitments")
    app.router.add_get(r"/open-data/scores.{fmt:(json|csv)}", scores_feed, name="feed_scores")
