"""The tables. Generic column types only, so SQLite and PostgreSQL share one schema."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    LargeBinary,
    Boolean,
    Date,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, date: Date, dict[str, Any]: JSON, list[Any]: JSON}


class Department(Base):
    """A government body a case can be routed to (bureau, district, township, street office…)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 统一社会信用代码 (18 characters), published in the open-data feed; empty until the directory gives it.
    credit_code: Mapped[str | None] = mapped_column(String(18))

    aliases: Mapped[list[DepartmentAlias]] = relationship(
        back_populates="department", cascade="all, delete-orphan", lazy="selectin"
    )


class Region(Base):
    """A region of the directory (`Department.region`, a regional supervisor's scope) and its Chinese name,
    for the web pages (亭湖区 rather than `tinghu`); from the directory file's optional `region_name` column."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


class DepartmentAlias(Base):
    """Another name people use for a department (区住建局, 城管…); one alias may fit several."""

    __tablename__ = "department_aliases"
    __table_args__ = (UniqueConstraint("department_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(64), index=True)

    department: Mapped[Department] = relationship(back_populates="aliases")


class Account(Base):
    """A Telegram user known to the bot, with the role they act in."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    role: Mapped[str] = mapped_column(String(16), default="citizen")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(32))
    full_name: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    department: Mapped[Department | None] = relationship(lazy="joined")


class Case(Base):
    """One complaint about a government body, from filing to closing."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_complainant_created", "complainant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    domain: Mapped[str] = mapped_column(String(16), index=True)
    domain_confidence: Mapped[float]
    domain_terms: Mapped[list[Any]] = mapped_column(default=list)
    suggested_domain: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    complainant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    text_masked: Mapped[str] = mapped_column(Text)
    # `text` folded by nlp.normalize_text (traditional -> simplified, full-width -> ASCII, lower case), which
    # /find matches against; set on every insert and update of `text` (bot.domain.cases), filled by migration 0011.
    text_search: Mapped[str | None] = mapped_column(Text)
    contact_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # substantiated | unsubstantiated | tolerated | rejected, set when the case ends
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    satisfaction_reason: Mapped[str | None] = mapped_column(Text)
    satisfaction_asked_at: Mapped[datetime | None]
    satisfaction_at: Mapped[datetime | None]
    # Answers to the domain's follow-up questions (project, amount owed, court case number…).
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # MinHash of the text's tokens, for duplicate and related-case detection.
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A complaint about a registered commitment (举报未兑现) points at it.
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id", use_alter=True), index=True)
    # The audit chain's head and length, and a keyed hash (bot.domain.audit) over the row's content
    # (ref, text, complainant, department, domain, status) and the two; migration 0011.
    audit_head: Mapped[str | None] = mapped_column(String(64))
    audit_count: Mapped[int | None]
    audit_seal: Mapped[str | None] = mapped_column(String(64))

    department: Mapped[Department | None] = relationship(lazy="joined")
    complainant: Mapped[Account] = relationship(lazy="joined")


class AuditEventColumns:
    """What every hash-chained audit event records: who, when, from, to, note, and the chain."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # 1: unkeyed SHA-256 (events written before migration 0011); 2: HMAC-SHA-256 with the audit key.
    hash_version: Mapped[int] = mapped_column(default=2, server_default="1")


class CaseEvent(AuditEventColumns, Base):
    """Append-only audit log of a case; each row chains the hash of the one before it."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)


class Evidence(Base):
    """A photo or document attached to a case, kept by Telegram file_id."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(256))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    caption: Mapped[str | None] = mapped_column(Text)
    caption_masked: Mapped[str | None] = mapped_column(Text)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]


class Supplement(Base):
    """Further text a complainant added to an open case."""

    __tablename__ = "supplements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    text_masked: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]


class Draft(Base):
    """A citizen's unfinished conversation (complaint or supplement), kept so restarts lose nothing."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(lazy="raise_on_sql")


class Counter(Base):
    """Named monotonic counters (case reference sequence); bumped by an atomic UPDATE."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Invite(Base):
    """A one-time code a supervisor makes so an official (or another supervisor) can bind their account."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(32))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    department: Mapped[Department | None] = relationship(lazy="joined")


class BindFailure(Base):
    """A wrong invite code typed by an account; five in an hour lock binding for an hour."""

    __tablename__ = "bind_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]


class Reply(Base):
    """A department's answer to the complainant, relayed by the bot."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | rectification
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Commitment(Base):
    """A promise (承诺) a department makes — what will be done by when — approved by a supervisor."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    # proposed | approved | returned | fulfilled | broken
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # Register (台账) commitments, made outside any case, carry these too.
    ref: Mapped[str | None] = mapped_column(String(24), unique=True)
    source: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    domain: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    fulfilment_note: Mapped[str | None] = mapped_column(Text)
    fulfilment_reported_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    # Register commitments (with a ref) carry their audit chain's head, length and seal, as cases do.
    audit_head: Mapped[str | None] = mapped_column(String(64))
    audit_count: Mapped[int | None]
    audit_seal: Mapped[str | None] = mapped_column(String(64))

    department: Mapped[Department] = relationship(lazy="joined")


class CommitmentVersion(Base):
    """One version of a commitment's terms; changes need a reason and a supervisor's approval."""

    __tablename__ = "commitment_versions"
    __table_args__ = (UniqueConstraint("commitment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    version: Mapped[int]
    content: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    source: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    # decided | none: whether compensation was decided for the change (policy: lawful procedure, compensation)
    compensation: Mapped[str | None] = mapped_column(String(12))
    # proposed | approved | rejected
    state: Mapped[str] = mapped_column(String(12))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class CommitmentEvent(AuditEventColumns, Base):
    """Append-only audit log of a register commitment, hash-chained like a case's."""

    __tablename__ = "commitment_events"
    __table_args__ = (UniqueConstraint("commitment_id", "seq"),)

    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)


class Obligation(Base):
    """A clock (时限): something a department (or the supervisors) owes by a time."""

    __tablename__ = "obligations"
    __table_args__ = (Index("ix_obligations_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"), index=True)
    # assign | accept | reply | commitment | rectification | follow_up
    kind: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    due_at: Mapped[datetime]
    # open | met | missed | extended | cancelled
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    department: Mapped[Department | None] = relationship(lazy="joined")


class Extension(Base):
    """A department's request for more time on a clock, decided by a supervisor."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    requested_due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    # requested | approved | denied
    state: Mapped[str] = mapped_column(String(12))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class DishonestyRecord(Base):
    """A government dishonesty record (政务失信记录) against a department; never names the complainant."""

    __tablename__ = "dishonesty_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    domain: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    # active | objection_pending | revoked | repair_pending | repaired
    status: Mapped[str] = mapped_column(String(20), index=True)
    objection_reason: Mapped[str | None] = mapped_column(Text)
    objection_decision: Mapped[str | None] = mapped_column(String(12))
    repair_evidence: Mapped[str | None] = mapped_column(Text)
    repair_decision: Mapped[str | None] = mapped_column(String(12))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # The record's case is closed as 容错纠错 now (Case.outcome == "tolerated"), kept here by
    # bot.domain.records.mark_case_tolerated so the public list never looks at the cases table.
    case_tolerated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    department: Mapped[Department] = relationship(lazy="joined")


class Reminder(Base):
    """One rung of a clock's reminder ladder: due at `send_at`, claimed by exactly one sweep."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_state_send_at", "state", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    # before | due | overdue | escalate_head | escalate_supervisors
    stage: Mapped[str] = mapped_column(String(24))
    overdue_days: Mapped[int]
    send_at: Mapped[datetime]
    # pending | dispatched | superseded | cancelled
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]


class OutboundMessage(Base):
    """A message the bot owes someone (reminder digest, escalation, daily list), delivered with retries."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    # a JSON reply_markup (inline keyboard) or null
    markup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # pending | sending | sent | failed | unreachable
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Evidence forwarded to officials: "photo" or "document" with the Telegram file id; `text` is the caption.
    media: Mapped[str | None] = mapped_column(String(12))
    file_id: Mapped[str | None] = mapped_column(String(256))
    # A file the bot made (monthly workbook, chart) instead of a Telegram file id.
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    filename: Mapped[str | None] = mapped_column(String(128))


class ProcessedUpdate(Base):
    """A Telegram update whose effects are committed: written in the same transaction, so a second
    delivery of the update (to this instance or another) finds it and changes nothing."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(index=True)


class JobRun(Base):
    """A once-a-day (or once-a-month) job that has run: the unique key makes it run once across instances."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("name", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class CalendarDay(Base):
    """One local day of the working-day calendar, so the database can count working days late itself.

    `ordinal` is the number of working days from the table's first day up to and including this one:
    working days in (a, b] = ordinal(b) − ordinal(a), as WorkCalendar.working_days_between(a, b).
    Filled from the bot's WorkCalendar by bot.domain.calendar_table, which CalendarState describes.
    """

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    ordinal: Mapped[int]
    is_workday: Mapped[bool] = mapped_column(Boolean)


class CalendarState(Base):
    """The one row saying which days calendar_days covers and which calendar filled it (a digest of its
    working days over that range): a query trusts the table only for the calendar it was given."""

    __tablename__ = "calendar_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date | None]
    last_day: Mapped[date | None]
    digest: Mapped[str] = mapped_column(String(64), default="")
    filled_at: Mapped[datetime | None]


class ReportRead(Base):
    """A department head's 已阅 on their department's monthly review (按月排查): one row per person and month."""

    __tablename__ = "report_reads"
    __table_args__ = (UniqueConstraint("department_id", "month", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    month: Mapped[str] = mapped_column(String(7))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    read_at: Mapped[datetime]


# Indexes the supervision queries (statistics, scores, the monthly review) aggregate on; migration 0004.
Index("ix_cases_closed_at", Case.closed_at)
Index("ix_cases_department_created", Case.department_id, Case.created_at)
Index("ix_cases_satisfaction_at", Case.satisfaction_at)
Index("ix_case_events_action_created", CaseEvent.action, CaseEvent.created_at)
Index("ix_obligations_closed_at", Obligation.closed_at)
Index("ix_dishonesty_records_created_at", DishonestyRecord.created_at)


class CoComplainant(Base):
    """A citizen who joined an existing case instead of opening a duplicate (联名投诉)."""

    __tablename__ = "co_complainants"
    __table_args__ = (UniqueConstraint("case_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class DomainCorrection(Base):
    """A supervisor moved a case to another domain: material for tuning the lexicon."""

    __tablename__ = "domain_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_domain: Mapped[str] = mapped_column(String(16))
    to_domain: Mapped[str] = mapped_column(String(16))
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]


# Supervision at scale (1,000,000 cases): partial and covering indexes so /stats, /overdue and /score
# aggregate with index-only scans; migration 0008.
Index("ix_cases_unclosed_department", Case.department_id,
      postgresql_where=Case.closed_at.is_(None), sqlite_where=Case.closed_at.is_(None))
Index("ix_cases_created_cover", Case.created_at, Case.department_id, Case.domain, Case.status)
Index("ix_cases_satisfaction_cover", Case.satisfaction_at, Case.department_id, Case.satisfaction)
Index("ix_cases_id_department", Case.id, Case.department_id)
Index("ix_case_events_action_created_case", CaseEvent.action, CaseEvent.created_at, CaseEvent.case_id)
Index("ix_obligations_open", Obligation.department_id, Obligation.due_at, Obligation.id, Obligation.created_at,
      Obligation.closed_at,
      postgresql_where=Obligation.state == "open", sqlite_where=Obligation.state == "open")
Index("ix_obligations_state_closed", Obligation.state, Obligation.closed_at, Obligation.department_id,
      Obligation.due_at)


class AuditAnchor(Base):
    """A daily anchor: the root over every audit chain's head, published outside the system. Append-only
    (the migration adds triggers refusing UPDATE and DELETE); each row's keyed `mac` chains to the one before."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), unique=True)
    created_at: Mapped[datetime]
    chains: Mapped[int]
    events: Mapped[int]
    # the highest case_events / commitment_events id the root covers
    case_event_cut: Mapped[int]
    commitment_event_cut: Mapped[int]
    # the highest account_events id the root covers; None for anchors made before migration 0016
    account_event_cut: Mapped[int | None]
    root: Mapped[str] = mapped_column(String(64))
    prev_root: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AccountEvent(Base):
    """A change of who may act as staff: an invite code made, an account bound with one, a role taken away.

    Written in the transaction that makes the change (bot.domain.access_log.record_account_change), so a
    refused or rolled-back change leaves no row. Append-only (the migration adds triggers refusing UPDATE
    and DELETE). `before` and `after` hold the access only (role, department_id, is_head, region): nothing
    a complainant wrote. An invitation has no account yet (`account_id` None) and no `before`.

    One audit chain for the whole table (bot.domain.account_chain): `seq` counts from 1 in id order, `hash`
    is keyed over the content and `prev_hash`; the chain's head and length live in AccountEventChain."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    # None: the system (a command-line task), not a person
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # the invitation made (invite) or used (bind): who invited whom
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # 2: HMAC with the audit key; 1: unkeyed SHA-256 given at migration 0016 to rows written before it
    hash_version: Mapped[int] = mapped_column(server_default="2")


class AccountEventChain(Base):
    """The one row holding the account-events chain's head, length and keyed seal (bot.domain.account_chain).
    Writers lock it (PostgreSQL: FOR UPDATE; SQLite: every write transaction holds the database's write
    lock), so account events get their seq and prev_hash one at a time."""

    __tablename__ = "account_event_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int]
    head: Mapped[str] = mapped_column(String(64))
    # None only for a chain made of rows from before migration 0016, until the first keyed event or anchor
    seal: Mapped[str | None] = mapped_column(String(64))


class WebLoginLink(Base):
    """A one-time dashboard login link sent by /web: short-lived, single use, bound to one Telegram id."""

    __tablename__ = "web_login_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A dashboard session opened with a login link; the cookie carries its id, signed; logout ends it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


# The cases closed as 容错纠错, found without reading every case (migration 0012). The public pages no
# longer read it: since migration 0015 a record carries its case's 容错纠错 itself (case_tolerated).
Index("ix_cases_tolerated", Case.id, postgresql_where=Case.outcome == "tolerated",
      sqlite_where=Case.outcome == "tolerated")

# Commitment clocks only (migration 0015): in ix_obligations_commitment_id every case clock shares the NULL
# key, and SQLite's statistics then make a department's kept-commitment rates scan every clock.
Index("ix_obligations_of_commitments", Obligation.commitment_id,
      postgresql_where=Obligation.commitment_id.is_not(None), sqlite_where=Obligation.commitment_id.is_not(None))
