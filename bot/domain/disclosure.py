"""Public reads (信用公示): published dishonesty records, the public commitment register, department scores.

What anyone may see without logging in, for the public web pages and the open-data feed. Nothing here
returns a person: record summaries and commitment texts pass through the one masking function
(`masked_for_officials`, which is `nlp.pii.mask_pii` plus the complainant's own names), and no
complainant, official or supervisor is named.

Which records are public is policy ([disclosure] in bot/data/policy.toml, docs/open-data.md):
- revoked records (objection upheld, 异议成立) are never public;
- records older than `public_years` leave the page (公示期);
- `repaired` (信用修复), `tolerated` (the case was later closed as 容错纠错) and `objection_pending`
  (异议处理中) are each "mark" (public, with the status and the rule named) or "hide".
"""

from __future__ import annotations

import time as _time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from bot.db.models import Account, Case, Commitment, CommitmentVersion, Department, DishonestyRecord
from bot.domain.cases import masked_for_officials
from bot.domain.commitments import PUBLIC_STATES
from bot.domain.records import RECORDS_VERSION
from bot.domain.refs import current_sequence
from bot.domain.roles import Actor, Role
from bot.domain.scope import commitments_clause
from bot.domain.scores import DepartmentScore, department_scores, ranking
from bot.domain.stats import Period, month_period
from bot.policy import Policy
from nlp.pii import mask_pii

# Public reads never need a department's aliases (selectin-loaded by default: a query per page).
_NO_ALIASES = lazyload(Department.aliases)

# The public: a citizen without an account, as the scope function knows them.
PUBLIC = Actor(Role.CITIZEN)

# Public status of a record (the codes the feed publishes; labels in bot/web/texts_web.py).
RECTIFYING, RECTIFIED, REPAIRED, OBJECTION = "rectifying", "rectified", "repaired", "objection"
NEVER_PUBLIC = ("revoked",)


@dataclass(frozen=True)
class PublicRecord:
    id: int
    department_id: int
    department: str
    department_code: str
    credit_code: str | None
    region: str
    domain: str
    recorded_on: date
    summary: str
    status: str
    rule: str | None  # the [disclosure] key that decided how it is shown, when one did
    updated_at: datetime


@dataclass(frozen=True)
class RuleCount:
    key: str
    setting: str
    hidden: int


@dataclass(frozen=True)
class RecordPage:
    items: list[PublicRecord]
    total: int
    page: int
    per_page: int
    rules: list[RuleCount] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class RecordFilter:
    department_id: int | None = None
    domain: str | None = None
    year: int | None = None


def public_since(policy: Policy, now: datetime) -> datetime:
    """The oldest moment a public record may have been made: `public_years` back, counted in whole days (so
    the public list, and its cached totals, change at most once a day by age)."""
    since = now - timedelta(days=365 * policy.disclose_years)
    return since.replace(hour=0, minute=0, second=0, microsecond=0)


def published_clause(policy: Policy, now: datetime) -> ColumnElement[bool]:
    """Records the public may see, by the [disclosure] rules; conditions on the records table only (容错纠错
    is the record's own `case_tolerated` flag, kept by bot.domain.records.mark_case_tolerated)."""
    conditions = [DishonestyRecord.status.not_in(NEVER_PUBLIC), DishonestyRecord.created_at >= public_since(policy, now)]
    if policy.disclose_repaired == "hide":
        conditions.append(DishonestyRecord.status != "repaired")
    if policy.disclose_objection_pending == "hide":
        conditions.append(DishonestyRecord.status != "objection_pending")
    if policy.disclose_tolerated == "hide":
        conditions.append(DishonestyRecord.case_tolerated.is_(False))
    return and_(*conditions)


def _filter_clause(flt: RecordFilter, tz) -> list:
    out = []
    if flt.department_id is not None:
        out.append(DishonestyRecord.department_id == flt.department_id)
    if flt.domain:
        out.append(DishonestyRecord.domain == flt.domain)
    if flt.year is not None:
        start = datetime(flt.year, 1, 1, tzinfo=tz)
        out.append(and_(DishonestyRecord.created_at >= start, DishonestyRecord.created_at < start.replace(year=flt.year + 1)))
    return out


def public_status(record_status: str, case_status: str | None, tolerated: bool, policy: Policy) -> tuple[str, str | None]:
    """The status the public sees, and the rule that decided it (None: no rule needed)."""
    if tolerated:
        base = REPAIRED if record_status == "repaired" else RECTIFIED
        return base, "tolerated"
    if record_status == "objection_pending":
        return OBJECTION, "objection_pending"
    if record_status == "repaired":
        return REPAIRED, "repaired"
    if record_status == "repair_pending" or case_status == "closed":
        return RECTIFIED, None
    return RECTIFYING, None


class Totals:
    """Counts of the public record list (total and per [disclosure] rule, per filter), kept by the records'
    version: the `public_records` counter, bumped in the transaction of every change to a record
    (bot.domain.records). Reading the version is one primary-key lookup, so a page never shows a count older
    than the last committed change, on any instance."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[int, object]] = OrderedDict()

    async def get(self, session: AsyncSession, key: tuple, compute: Callable[[], Awaitable]):
        version = await current_sequence(session=session, name=RECORDS_VERSION)
        found = self._entries.get(key)
        if found is not None and found[0] == version:
            self._entries.move_to_end(key)
            return found[1]
        value = await compute()
        self._entries[key] = (version, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value


@dataclass(frozen=True)
class _Complainant:
    """The two names of a complainant the masking function reads (Account.full_name, Account.username)."""

    full_name: str | None
    username: str | None


@lru_cache(maxsize=16_384)
def _masked(text: str, full_name: str | None, username: str | None, has_complainant: bool) -> str:
    """The public text: a pure function of the text and the complainant's names, so kept once computed (a
    page of 500 feed rows would otherwise run the masking 500 times on every request)."""
    if not has_complainant:
        return mask_pii(text)
    return masked_for_officials(text, _Complainant(full_name, username))


def _mask(text: str | None) -> str | None:
    return _masked(text, None, None, False) if text else text


async def published_records(*, session: AsyncSession, policy: Policy, now: datetime, tz, flt: RecordFilter,
                            page: int = 1, per_page: int = 50, with_rules: bool = True,
                            totals: Totals | None = None) -> RecordPage:
    """One page of the published records, newest first, and how many each [disclosure] rule withheld.

    `totals` (the site's per-version cache) saves the counts, which only change when the records do."""
    published = published_clause(policy, now)
    filters = _filter_clause(flt, tz)
    key = ("records", public_since(policy, now), flt, with_rules)

    async def count() -> tuple[int, list[RuleCount]]:
        total = await session.scalar(select(func.count(DishonestyRecord.id)).where(published, *filters)) or 0
        return total, (await _rule_counts(session, policy, now, filters) if with_rules else [])

    total, rules = await totals.get(session, key, count) if totals is not None else await count()
    order = (DishonestyRecord.created_at.desc(), DishonestyRecord.id.desc())
    # The page's ids from the records alone (an index range on created_at), then only those rows with their
    # joins: one statement, no list of ids sent back and forth.
    page_ids = (select(DishonestyRecord.id.label("id")).where(published, *filters).order_by(*order)
                .offset((page - 1) * per_page).limit(per_page).subquery())
    rows = (await session.execute(
        select(DishonestyRecord.id, DishonestyRecord.domain, DishonestyRecord.summary, DishonestyRecord.status,
               DishonestyRecord.case_tolerated, DishonestyRecord.created_at, DishonestyRecord.decided_at,
               Department.id, Department.name, Department.code, Department.credit_code, Department.region,
               Case.status, Case.complainant_id, Account.full_name, Account.username)
        .select_from(page_ids)
        .join(DishonestyRecord, DishonestyRecord.id == page_ids.c.id)
        .join(Department, Department.id == DishonestyRecord.department_id)
        .outerjoin(Case, Case.id == DishonestyRecord.case_id)
        .outerjoin(Account, Account.id == Case.complainant_id)
        .order_by(*order)
    )).all()
    items = []
    for (record_id, domain, summary, record_status, tolerated, created_at, decided_at, department_id, name, code,
         credit_code, region, case_status, complainant_id, full_name, username) in rows:
        status, rule = public_status(record_status, case_status, tolerated, policy)
        items.append(PublicRecord(
            id=record_id, department_id=department_id, department=name, department_code=code,
            credit_code=credit_code, region=region, domain=domain, recorded_on=created_at.astimezone(tz).date(),
            summary=_masked(summary, full_name, username, complainant_id is not None),
            status=status, rule=rule, updated_at=decided_at or created_at,
        ))
    return RecordPage(items, total, page, per_page, rules)


async def _rule_counts(session: AsyncSession, policy: Policy, now: datetime, filters: list) -> list[RuleCount]:
    """For each [disclosure] rule, how many records (within the filter) it took off the page: one pass."""
    expired = DishonestyRecord.created_at < public_since(policy, now)
    shown = DishonestyRecord.status.not_in(NEVER_PUBLIC)
    rules = {
        "repaired": (policy.disclose_repaired, and_(shown, ~expired, DishonestyRecord.status == "repaired")),
        "objection_pending": (policy.disclose_objection_pending,
                              and_(shown, ~expired, DishonestyRecord.status == "objection_pending")),
        "tolerated": (policy.disclose_tolerated, and_(shown, ~expired, DishonestyRecord.case_tolerated.is_(True))),
        "public_years": (str(policy.disclose_years), and_(shown, expired)),
        "revoked": ("hide", DishonestyRecord.status.in_(NEVER_PUBLIC)),
    }
    counted = [key for key, (setting, _) in rules.items() if setting != "mark"]
    values = (await session.execute(
        select(*[func.coalesce(func.sum(case((rules[key][1], 1), else_=0)), 0) for key in counted])
        .select_from(DishonestyRecord)
        .where(*filters))).one()
    hidden = dict(zip(counted, values))
    return [RuleCount(key, setting, int(hidden.get(key, 0))) for key, (setting, _) in rules.items()]


async def record_years(*, session: AsyncSession, tz) -> list[int]:
    """Years that have records, newest first (for the year filter)."""
    first, last = (await session.execute(
        select(func.min(DishonestyRecord.created_at), func.max(DishonestyRecord.created_at)))).one()
    if first is None:
        return []
    return list(range(last.astimezone(tz).year, first.astimezone(tz).year - 1, -1))


async def public_departments(*, session: AsyncSession) -> list:
    """Every active department as a light row (id, code, name, region, credit_code), by code."""
    return list((await session.execute(
        select(Department.id, Department.code, Department.name, Department.region, Department.credit_code)
        .where(Department.active.is_(True)).order_by(Department.code))).all())


async def department_by_code(*, session: AsyncSession, code: str) -> Department | None:
    return await session.scalar(select(Department).where(Department.code == code, Department.active.is_(True))
                                .options(_NO_ALIASES))


# --- the public commitment register (承诺公开) ----------------------------------------------------


@dataclass(frozen=True)
class PublicVersion:
    version: int
    content: str
    due_on: date
    amount: Decimal | None
    reason: str | None
    decided_on: date | None


@dataclass(frozen=True)
class PublicCommitment:
    id: int
    ref: str
    department_id: int
    department: str
    department_code: str
    credit_code: str | None
    domain: str | None
    content: str
    source: str | None
    due_on: date
    amount: Decimal | None
    status: str
    version: int
    fulfilment: str | None
    fulfilled_on: date | None
    registered_on: date
    updated_at: datetime
    versions: list[PublicVersion] = field(default_factory=list)


@dataclass(frozen=True)
class CommitmentPage:
    items: list[PublicCommitment]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def public_commitments_clause() -> ColumnElement[bool]:
    """The public part of the register, as the scope function gives it to anyone."""
    return and_(Commitment.ref.is_not(None), commitments_clause(PUBLIC, public_states=PUBLIC_STATES))


# What a public commitment shows, as plain columns (no ORM objects: a feed page has 500 of them).
_COMMITMENT_COLUMNS = (
    Commitment.id, Commitment.ref, Commitment.department_id, Department.name.label("department_name"),
    Department.code.label("department_code"), Department.credit_code, Commitment.domain, Commitment.content,
    Commitment.source, Commitment.due_on, Commitment.amount, Commitment.status, Commitment.version,
    Commitment.fulfilment_note, Commitment.fulfilled_at, Commitment.created_at, Commitment.decided_at,
    Commitment.fulfilment_reported_at,
)


async def public_commitments(*, session: AsyncSession, tz, department_id: int | None = None,
                             status: str | None = None, page: int = 1, per_page: int = 50,
                             with_versions: bool = True) -> CommitmentPage:
    conditions = [public_commitments_clause()]
    if department_id is not None:
        conditions.append(Commitment.department_id == department_id)
    if status:
        conditions.append(Commitment.status == status)
    total = await session.scalar(select(func.count(Commitment.id)).where(*conditions)) or 0
    rows = (await session.execute(
        select(*_COMMITMENT_COLUMNS).join(Department, Department.id == Commitment.department_id).where(*conditions)
        .order_by(Commitment.due_on.desc(), Commitment.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )).all()
    versions = await _approved_versions(session, [c.id for c in rows], tz) if with_versions and rows else {}
    return CommitmentPage([_public_commitment(c, tz, versions.get(c.id, [])) for c in rows], total, page, per_page)


async def _approved_versions(session: AsyncSession, ids: list[int], tz) -> dict[int, list[PublicVersion]]:
    versions: dict[int, list[PublicVersion]] = {}
    for v in (await session.execute(
            select(CommitmentVersion.commitment_id, CommitmentVersion.version, CommitmentVersion.content,
                   CommitmentVersion.due_on, CommitmentVersion.amount, CommitmentVersion.reason,
                   CommitmentVersion.decided_at)
            .where(CommitmentVersion.commitment_id.in_(ids), CommitmentVersion.state == "approved")
            .order_by(CommitmentVersion.commitment_id, CommitmentVersion.version))).all():
        versions.setdefault(v.commitment_id, []).append(PublicVersion(
            v.version, _mask(v.content), v.due_on, v.amount, _mask(v.reason),
            v.decided_at.astimezone(tz).date() if v.decided_at else None))
    return versions


async def public_commitment(*, session: AsyncSession, tz, key: str) -> PublicCommitment | None:
    """One public commitment by id or reference (CN-2026-0001)."""
    condition = Commitment.id == int(key) if key.isdigit() else Commitment.ref == key.upper()
    found = (await session.execute(
        select(*_COMMITMENT_COLUMNS).join(Department, Department.id == Commitment.department_id)
        .where(condition, public_commitments_clause()))).first()
    if found is None:
        return None
    versions = await _approved_versions(session, [found.id], tz)
    return _public_commitment(found, tz, versions.get(found.id, []))


def _public_commitment(c, tz, versions: list[PublicVersion]) -> PublicCommitment:
    """From a row of _COMMITMENT_COLUMNS."""
    return PublicCommitment(
        id=c.id, ref=c.ref, department_id=c.department_id, department=c.department_name,
        department_code=c.department_code, credit_code=c.credit_code, domain=c.domain,
        content=_mask(c.content), source=_mask(c.source), due_on=c.due_on,
        amount=c.amount, status=c.status, version=c.version,
        fulfilment=_mask(c.fulfilment_note),
        fulfilled_on=c.fulfilled_at.astimezone(tz).date() if c.fulfilled_at else None,
        registered_on=c.created_at.astimezone(tz).date(),
        updated_at=max(t for t in (c.created_at, c.decided_at, c.fulfilment_reported_at, c.fulfilled_at) if t),
        versions=versions,
    )


@dataclass(frozen=True)
class KeptRate:
    """A department's commitments due in a month: kept on time, kept late, broken, still open."""

    on_time: int = 0
    late: int = 0
    broken: int = 0
    open: int = 0

    @property
    def rate(self) -> float | None:
        decided = self.on_time + self.late + self.broken
        return self.on_time / decided if decided else None


async def kept_by_month(*, session: AsyncSession, department_id: int, start: date, end: date) -> dict[str, KeptRate]:
    """Per month (YYYY-MM of the due date) in [start, end], as commitments.fulfilment_rates counts them."""
    from bot.db.models import Obligation

    rows = (await session.execute(
        select(Commitment.due_on, Commitment.status, Obligation.state)
        # The IS NOT NULL lets SQLite take the partial index of commitment clocks (ix_obligations_of_commitments):
        # on the full index every case clock shares the NULL key, and its statistics make SQLite scan them all.
        .join(Obligation, (Obligation.commitment_id == Commitment.id) & Obligation.commitment_id.is_not(None)
              & Obligation.state.not_in(("extended", "cancelled")))
        .where(Commitment.department_id == department_id, Commitment.due_on >= start, Commitment.due_on <= end)
    )).all()
    counts: dict[str, list[int]] = {}
    for due_on, status, state in rows:
        c = counts.setdefault(f"{due_on:%Y-%m}", [0, 0, 0, 0])
        c[0] += state == "met"
        c[1] += state == "missed" and status == "fulfilled"
        c[2] += status == "broken"
        c[3] += state == "open"
    return {month: KeptRate(*c) for month, c in counts.items()}


# --- department scores by month (部门诚信评价) ------------------------------------------------------


@dataclass(frozen=True)
class MonthScores:
    period: Period
    ranked: list[tuple[int, DepartmentScore]]
    computed_at: float


class ScoreCache:
    """Scores of every department per month, kept `ttl` seconds: the public pages and the feed show them
    to anyone, and one month's computation over a million cases takes a few hundred milliseconds."""

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._months: dict[str, MonthScores] = {}

    async def month(self, *, session: AsyncSession, period: Period, now: datetime, calendar,
                    fresh: bool = False) -> MonthScores:
        found = self._months.get(period.month_key)
        if not fresh and found is not None and _time.monotonic() - found.computed_at < self.ttl:
            return found
        scores = await department_scores(session=session, period=period, now=now, region=None, calendar=calendar)
        found = MonthScores(period, ranking(scores), _time.monotonic())
        self._months[period.month_key] = found
        return found

    def clear(self) -> None:
        self._months.clear()


def recent_months(today: date, tz, count: int) -> list[Period]:
    return month_period(today.year, today.month, tz).months_back(count)


__all__ = [
    "CommitmentPage", "MonthScores", "PUBLIC", "PublicCommitment", "PublicRecord", "RecordFilter", "RecordPage",
    "ScoreCache", "Totals", "public_since", "department_by_code", "public_commitment", "public_commitments", "public_departments",
    "public_status", "published_clause", "published_records", "record_years", "recent_months",
]
