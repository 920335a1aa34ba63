"""The commitment register (承诺台账): government promises made outside any case — investment
agreements, township public promises, procurement and PPP contract duties — tracked to the day.

They share the case commitments' table and their clock mechanism (one `commitment` obligation with its
reminder ladder); what is particular here is the register's reference, source, amount, publicity, an
append-only version history (changes need a reason and a supervisor), and a hash-chained audit log.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case as when
from sqlalchemy import func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Commitment, CommitmentVersion, Department, DepartmentAlias, Obligation
from bot.domain.audit import append_commitment_event
from bot.domain.casework import decide_commitment, mark_commitment_broken
from bot.domain.dates import DateProblem, parse_due_date
from bot.domain.errors import DomainError, Forbidden, InvalidInput, InvalidTransition, NotFound
from bot.domain.obligations import Deadlines, close_clock, extend_clock, start_clock
from bot.domain.refs import next_sequence
from bot.domain import scope
from bot.domain.roles import Actor
from bot.domain.tables import TableError, decode_text, read_table
from nlp import DOMAINS
from nlp.extract import extract_amounts, oversized_amounts
from nlp.numbers import MAX_AMOUNT_YUAN, NumberTooLarge, parse_number

COMMITMENT_SEQUENCE = "commitment_ref"
REF_PATTERN = re.compile(r"^CN-\d{4}-\d{4,}$")
PUBLIC_STATES = ("approved", "reported", "fulfilled", "broken")
OPEN_STATES = ("approved", "reported")
CHANGEABLE = {"日期": "due_on", "期限": "due_on", "内容": "content", "金额": "amount"}
LEDGER_COLUMNS = ("department", "content", "source", "due_date", "amount", "public", "domain")
_PUNCTUATION = re.compile(r"[\s，。、；：,.;:!！?？“”\"'（）()]+")


@dataclass(frozen=True)
class NewCommitment:
    department: Department
    content: str
    due_on: date
    source: str | None = None
    amount: Decimal | None = None
    is_public: bool = True
    domain: str | None = None


def fingerprint(department_id: int, content: str, due_on: date) -> str:
    """Same department, same words (punctuation and spacing aside), same date: the same promise."""
    normalized = _PUNCTUATION.sub("", content).lower()
    return hashlib.sha256(f"{department_id}|{normalized}|{due_on.isoformat()}".encode()).hexdigest()


def normalize_commitment_ref(raw: str) -> str | None:
    candidate = raw.strip().upper().replace("－", "-").replace("—", "-")
    return candidate if REF_PATTERN.match(candidate) else None


def parse_amount(raw: str) -> Decimal | None:
    """'500万元', '1200000', '1.5亿' → yuan; None when empty; InvalidInput when unreadable."""
    raw = raw.strip()
    if not raw:
        return None
    shown = raw if len(raw) <= 60 else raw[:60] + "…"  # quoted back in a refusal
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", raw):
        try:
            value = parse_number(raw)
        except NumberTooLarge:
            value = None
        if value is None or value > MAX_AMOUNT_YUAN:
            raise InvalidInput("amount_too_large", text=shown)
        return value.quantize(Decimal("0.01"))
    amounts = extract_amounts(raw)
    if not amounts and oversized_amounts(raw):
        raise InvalidInput("amount_too_large", text=shown)
    if not amounts:
        raise InvalidInput("amount_unreadable", text=shown)
    return amounts[0].value_yuan.quantize(Decimal("0.01"))


async def commitment_by_ref(*, session: AsyncSession, raw_ref: str, actor: Actor) -> Commitment:
    """A register commitment the actor may see: supervisors all, officials their department's, others public ones."""
    ref = normalize_commitment_ref(raw_ref)
    commitment = await session.scalar(select(Commitment).where(Commitment.ref == ref)) if ref else None
    if commitment is None or not may_view(commitment, actor):
        raise NotFound("commitment_not_found", ref=raw_ref[:32])
    return commitment


def may_view(commitment: Commitment, actor: Actor) -> bool:
    return scope.may_see_commitment(actor, commitment, public_states=PUBLIC_STATES)


async def find_duplicate(*, session: AsyncSession, department_id: int, content: str, due_on: date) -> Commitment | None:
    return await session.scalar(
        select(Commitment).where(Commitment.fingerprint == fingerprint(department_id, content, due_on),
                                 Commitment.status.not_in(("returned",)))
    )


async def register_commitment(*, session: AsyncSession, actor: Actor, new: NewCommitment, now: datetime,
                              deadlines: Deadlines) -> Commitment:
    """A supervisor registers (in force at once); an official of the department proposes (a supervisor approves)."""
    if actor.is_official:
        if actor.account.department_id != new.department.id:
            raise Forbidden("forbidden")
    elif not actor.is_supervisor:
        raise Forbidden("forbidden")
    if new.due_on < deadlines.local_date(now):
        raise DateProblem("date_past", text=new.due_on.isoformat(), example="2027年6月30日")
    if new.domain is not None and new.domain not in DOMAINS:
        raise InvalidInput("domain_unknown", domain=new.domain)
    if duplicate := await find_duplicate(session=session, department_id=new.department.id, content=new.content,
                                         due_on=new.due_on):
        raise DomainError("commitment_duplicate", ref=duplicate.ref or "")
    sequence = await next_sequence(session=session, name=COMMITMENT_SEQUENCE)
    status = "approved" if actor.is_supervisor else "proposed"
    commitment = Commitment(
        ref=f"CN-{deadlines.local_date(now).year}-{sequence:04d}", department_id=new.department.id,
        department=new.department, content=new.content, due_on=new.due_on, source=new.source, amount=new.amount,
        is_public=new.is_public, domain=new.domain, status=status, version=1, proposed_by_id=actor.account_id,
        decided_by_id=actor.account_id if actor.is_supervisor else None,
        decided_at=now if actor.is_supervisor else None, created_at=now,
        fingerprint=fingerprint(new.department.id, new.content, new.due_on),
    )
    session.add(commitment)
    await session.flush()
    session.add(CommitmentVersion(
        commitment_id=commitment.id, version=1, content=new.content, due_on=new.due_on, amount=new.amount,
        source=new.source, state="approved" if actor.is_supervisor else "proposed", proposed_by_id=actor.account_id,
        decided_by_id=commitment.decided_by_id, created_at=now, decided_at=commitment.decided_at,
    ))
    if actor.is_supervisor:
        await start_clock(session=session, case=None, kind="commitment", now=now,
                          due_at=deadlines.end_of(new.due_on), deadlines=deadlines,
                          department_id=new.department.id, commitment_id=commitment.id)
    await append_commitment_event(session=session, commitment=commitment, action="register", actor=actor, now=now,
                                  to_status=status, note=f"{new.due_on.isoformat()} {new.content}")
    return commitment


async def decide_registration(*, session: AsyncSession, commitment: Commitment, actor: Actor, approve: bool,
                              now: datetime, deadlines: Deadlines) -> None:
    """A supervisor approves or returns an official's proposed register commitment."""
    await decide_commitment(session=session, commitment=commitment, actor=actor, approve=approve, now=now,
                            deadlines=deadlines)
    version = await session.scalar(select(CommitmentVersion).where(CommitmentVersion.commitment_id == commitment.id,
                                                                   CommitmentVersion.version == 1))
    version.state, version.decided_by_id, version.decided_at = ("approved" if approve else "rejected"), actor.account_id, now
    await append_commitment_event(session=session, commitment=commitment, action="approve" if approve else "return",
                                  actor=actor, now=now, from_status="proposed", to_status=commitment.status)


def _require_department(commitment: Commitment, actor: Actor) -> None:
    if not actor.is_official or actor.account.department_id != commitment.department_id:
        raise Forbidden("forbidden")


async def report_fulfilment(*, session: AsyncSession, commitment: Commitment, actor: Actor, note: str,
                            now: datetime) -> None:
    """The department says the promise is kept, with evidence; a supervisor confirms."""
    _require_department(commitment, actor)
    if commitment.status != "approved":
        raise InvalidTransition("commitment_state", status=commitment.status)
    commitment.status, commitment.fulfilment_note, commitment.fulfilment_reported_at = "reported", note, now
    await append_commitment_event(session=session, commitment=commitment, action="fulfilment_reported", actor=actor,
                                  now=now, from_status="approved", to_status="reported", note=note)


async def confirm_fulfilment(*, session: AsyncSession, commitment: Commitment, actor: Actor, now: datetime) -> bool:
    """践诺: confirmed kept. On time when the department reported it by the due date. Returns on-time."""
    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    if commitment.status != "reported":
        raise InvalidTransition("commitment_state", status=commitment.status)
    reported = commitment.fulfilment_reported_at or now
    commitment.status, commitment.fulfilled_at = "fulfilled", reported
    for clock in await _open_commitment_clocks(session, commitment.id):
        await close_clock(session, clock, now=reported)
    on_time = reported.date() <= commitment.due_on or reported <= (await _due_at(session, commitment))
    await append_commitment_event(session=session, commitment=commitment, action="fulfilled", actor=actor, now=now,
                                  from_status="reported", to_status="fulfilled")
    return on_time


async def _due_at(session: AsyncSession, commitment: Commitment) -> datetime:
    return await session.scalar(select(func.max(Obligation.due_at)).where(Obligation.commitment_id == commitment.id))


async def record_broken(*, session: AsyncSession, commitment: Commitment, actor: Actor, now: datetime,
                        note: str | None) -> None:
    """失信: a dishonesty record, exactly as for a substantiated case."""
    previous = commitment.status
    if previous == "reported":
        commitment.status = "approved"  # the report was not accepted
    await mark_commitment_broken(session=session, commitment=commitment, actor=actor, now=now, note=note)
    if commitment.ref:
        await append_commitment_event(session=session, commitment=commitment, action="broken", actor=actor, now=now,
                                      from_status=previous, to_status="broken", note=note)


async def _open_commitment_clocks(session: AsyncSession, commitment_id: int) -> list[Obligation]:
    return list((await session.scalars(
        select(Obligation).where(Obligation.commitment_id == commitment_id, Obligation.state == "open")
    )).all())


async def propose_change(*, session: AsyncSession, commitment: Commitment, actor: Actor, field_name: str,
                         value: str, reason: str, now: datetime, deadlines: Deadlines) -> CommitmentVersion:
    """Changing a promise's content, amount or date needs a reason and a supervisor's approval."""
    if not (actor.is_supervisor or (actor.is_official and actor.account.department_id == commitment.department_id)):
        raise Forbidden("forbidden")
    if commitment.status not in OPEN_STATES:
        raise InvalidTransition("commitment_state", status=commitment.status)
    if field_name not in CHANGEABLE:
        raise InvalidInput("change_field", field=field_name)
    if not reason.strip():
        raise InvalidInput("change_reason")
    if await session.scalar(select(CommitmentVersion.id).where(CommitmentVersion.commitment_id == commitment.id,
                                                               CommitmentVersion.state == "proposed")):
        raise DomainError("change_pending", ref=commitment.ref)
    terms = {"content": commitment.content, "due_on": commitment.due_on, "amount": commitment.amount}
    target = CHANGEABLE[field_name]
    if target == "due_on":
        terms["due_on"] = parse_due_date(value, today=deadlines.local_date(now), calendar=deadlines.calendar)
    elif target == "amount":
        terms["amount"] = parse_amount(value)
    else:
        terms["content"] = value.strip()
    version = CommitmentVersion(
        commitment_id=commitment.id, version=commitment.version + 1, source=commitment.source, reason=reason.strip(),
        state="proposed", proposed_by_id=actor.account_id, created_at=now, **terms,
    )
    session.add(version)
    await session.flush()
    await append_commitment_event(session=session, commitment=commitment, action="change_proposed", actor=actor,
                                  now=now, note=f"v{version.version} {field_name}: {value} / {reason}")
    return version


async def decide_change(*, session: AsyncSession, version: CommitmentVersion, actor: Actor, approve: bool,
                        compensation: str | None, now: datetime, deadlines: Deadlines) -> Commitment:
    """Apply or refuse a proposed version; a new date moves the clock (old reminders cancelled) at once."""
    if not actor.is_supervisor:
        raise Forbidden("forbidden")
    if version.state != "proposed":
        raise InvalidTransition("commitment_decided", status=version.state)
    commitment = await session.get(Commitment, version.commitment_id)
    version.state, version.decided_by_id, version.decided_at = ("approved" if approve else "rejected"), actor.account_id, now
    if approve:
        version.compensation = compensation
        new_date = version.due_on != commitment.due_on
        commitment.content, commitment.due_on, commitment.amount = version.content, version.due_on, version.amount
        commitment.version = version.version
        commitment.fingerprint = fingerprint(commitment.department_id, commitment.content, commitment.due_on)
        if new_date:
            for clock in await _open_commitment_clocks(session, commitment.id):
                await extend_clock(session=session, obligation=clock, due_at=deadlines.end_of(version.due_on), now=now,
                                   deadlines=deadlines)
    await append_commitment_event(
        session=session, commitment=commitment, action="change_approved" if approve else "change_rejected",
        actor=actor, now=now, note=f"v{version.version} compensation={compensation or '-'}",
    )
    return commitment


async def versions_of(*, session: AsyncSession, commitment_id: int) -> list[CommitmentVersion]:
    return list((await session.scalars(
        select(CommitmentVersion).where(CommitmentVersion.commitment_id == commitment_id)
        .order_by(CommitmentVersion.version, CommitmentVersion.id)
    )).all())


async def list_commitments(*, session: AsyncSession, actor: Actor, words: str | None, overdue_at: datetime | None,
                           offset: int, limit: int) -> tuple[list[Commitment], int]:
    """Register commitments the actor may see, matching words (department name/alias or content), due first."""
    conditions = [Commitment.ref.is_not(None), scope.commitments_clause(actor, public_states=PUBLIC_STATES)]
    if words:
        like = f"%{words}%"
        aliased = select(DepartmentAlias.department_id).where(DepartmentAlias.alias == words)
        named = select(Department.id).where(Department.name.like(like))
        conditions.append(or_(Commitment.content.like(like), Commitment.department_id.in_(named),
                              Commitment.department_id.in_(aliased), Commitment.ref == words.upper()))
    if overdue_at is not None:
        overdue = select(Obligation.commitment_id).where(Obligation.state == "open", Obligation.due_at < overdue_at,
                                                         Obligation.commitment_id.is_not(None))
        conditions.append(Commitment.id.in_(overdue))
    total = await session.scalar(select(func.count(Commitment.id)).where(*conditions)) or 0
    rows = await session.scalars(select(Commitment).where(*conditions)
                                 .order_by(Commitment.due_on, Commitment.id).offset(offset).limit(limit))
    return list(rows.all()), total


@dataclass(frozen=True)
class FulfilmentRate:
    department: str
    on_time: int
    late: int
    broken: int
    open: int

    @property
    def rate(self) -> float | None:
        decided = self.on_time + self.late + self.broken
        return self.on_time / decided if decided else None


async def fulfilment_rates(*, session: AsyncSession, start: date, end: date,
                           actor: Actor | None = None) -> list[FulfilmentRate]:
    """Per department, commitments due in [start, end]: kept on time, kept late, broken, still open;
    with `actor`, only the departments in their scope."""
    in_scope = scope.departments_clause(actor, Commitment.department_id) if actor is not None else true()
    on_time = func.sum(when((Obligation.state == "met", 1), else_=0))
    late = func.sum(when(((Obligation.state == "missed") & (Commitment.status == "fulfilled"), 1), else_=0))
    broken = func.sum(when((Commitment.status == "broken", 1), else_=0))
    still_open = func.sum(when((Obligation.state == "open", 1), else_=0))
    rows = (await session.execute(
        select(Department.name, on_time, late, broken, still_open)
        .select_from(Commitment)
        .join(Department, Department.id == Commitment.department_id)
        .join(Obligation, (Obligation.commitment_id == Commitment.id) & (Obligation.state != "extended")
              & (Obligation.state != "cancelled"))
        .where(Commitment.due_on >= start, Commitment.due_on <= end, in_scope)
        .group_by(Department.name).order_by(Department.name)
    )).all()
    return [FulfilmentRate(name, int(a or 0), int(b or 0), int(c or 0), int(d or 0)) for name, a, b, c, d in rows]


# --- the ledger (台账) import ---------------------------------------------------------------------


@dataclass
class LedgerReport:
    created: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def decode_ledger(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GBK/GB18030 as government offices' spreadsheets save it."""
    try:
        return decode_text(raw)
    except TableError as error:
        raise InvalidInput("ledger_encoding") from error


async def import_ledger(*, session: AsyncSession, raw: bytes, actor: Actor, now: datetime,
                        deadlines: Deadlines, progress=None) -> LedgerReport:
    """Register every row, or none: a file with any bad row is refused whole, naming each bad line and why.
    CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or an Excel workbook (.xlsx, first sheet); `progress(n)` is
    called as rows are registered."""
    report = LedgerReport()
    try:
        table = read_table(raw)
    except TableError as error:
        report.errors.append(str(error))
        return report
    report.encoding = table.encoding
    missing = [c for c in LEDGER_COLUMNS if c not in table.fieldnames]
    if missing:
        report.errors.append(f"缺少列：{', '.join(missing)}（需要 {','.join(LEDGER_COLUMNS)}）")
        return report
    today = deadlines.local_date(now)
    parsed: list[tuple[int, NewCommitment]] = []
    seen: dict[str, int] = {}
    for line, row in table.rows:
        problems = []
        name = (row["department"] or "").strip()
        department = await _department_named(session, name)
        if department is None:
            problems.append(f"部门“{name}”不在部门目录中" if name else "缺少部门")
        text = (row["content"] or "").strip()
        if not text:
            problems.append("缺少承诺内容")
        due_on = None
        try:
            due_on = parse_due_date((row["due_date"] or "").strip(), today=today, calendar=deadlines.calendar)
        except DateProblem as problem:
            problems.append(f"日期“{(row['due_date'] or '').strip()}”无法使用（{_DATE_REASONS.get(problem.code, problem.code)}）")
        amount = None
        try:
            amount = parse_amount(row["amount"] or "")
        except InvalidInput as problem:
            shown = (row["amount"] or "")[:40]
            problems.append(f"金额“{shown}”超过上限（10万亿元）" if problem.code == "amount_too_large"
                            else f"金额“{shown}”无法识别")
        public = (row["public"] or "").strip().lower()
        if public not in ("", "是", "否", "公开", "不公开", "yes", "no", "true", "false", "1", "0"):
            problems.append(f"是否公开“{public}”应为 是/否")
        domain = (row["domain"] or "").strip() or None
        if domain is not None and domain not in DOMAINS:
            problems.append(f"领域“{domain}”不是 {'/'.join(DOMAINS)} 之一")
        if problems:
            report.errors.append(f"第 {line} 行：" + "；".join(problems))
            continue
        key = fingerprint(department.id, text, due_on)
        if key in seen:
            report.errors.append(f"第 {line} 行：与第 {seen[key]} 行重复")
            continue
        seen[key] = line
        parsed.append((line, NewCommitment(
            department=department, content=text, due_on=due_on, source=(row["source"] or "").strip() or None,
            amount=amount, is_public=public not in ("否", "不公开", "no", "false", "0"), domain=domain,
        )))
    if report.errors:
        return report
    for line, new in parsed:
        if progress is not None:  # the command line's progress bar: one step per row registered
            progress(1)
        existing = await find_duplicate(session=session, department_id=new.department.id, content=new.content,
                                        due_on=new.due_on)
        if existing is not None:
            report.duplicates.append(f"第 {line} 行：已登记为 {existing.ref}，未重复登记")
            continue
        commitment = await register_commitment(session=session, actor=actor, new=new, now=now, deadlines=deadlines)
        report.created.append(commitment.ref)
    return report


_DATE_REASONS = {"date_unreadable": "看不懂", "date_past": "已过期", "date_ambiguous": "不明确，请写年份",
                 "date_too_far": "太远"}


async def _department_named(session: AsyncSession, name: str) -> Department | None:
    if not name:
        return None
    aliased = select(DepartmentAlias.department_id).where(DepartmentAlias.alias == name)
    found = (await session.scalars(select(Department).where(
        or_(Department.code == name, Department.name == name, Department.id.in_(aliased))))).unique().all()
    return found[0] if len(found) == 1 else None
