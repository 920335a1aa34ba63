"""Who may act as staff (督办): one-time invitations (/invite), the officials of a department and the invited
supervisors (/officials), taking a role away (/unbind and its button), and the log of those changes.

A regional supervisor invites, lists and unbinds within their region only (bot.domain.scope).
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.db.models import Account
from bot.domain import scope
from bot.domain.access_log import AccessEntry, recent_account_events
from bot.domain.departments import find_region, region_label, region_names
from bot.domain.errors import DomainError
from bot.domain.officials import create_invite, officials_of, revoke_account
from bot.domain.roles import Role
from bot.domain.supervision_reads import departments_in_scope, managed_supervisors
from handlers.codec import BadData, Codec, Int
from handlers.door import SUPERVISORS, Turn, door
from handlers.views import fit_lines, region_note

TELEGRAM_ID = Int(1, 10**12 - 1)
UNBIND = Codec("ub", TELEGRAM_ID)
ACCESS_LOG_SHOWN = 30


async def _one_department(turn: Turn, query: str):
    """The one department `query` names in the actor's scope; out of region is refused as such."""
    departments = await departments_in_scope(session=turn.session, actor=turn.actor, query=query, refuse_outside=True)
    if len(departments) != 1:
        raise DomainError("department_not_found", query=query[:64])
    return departments[0]


@door(roles=SUPERVISORS)
async def invite_command(turn: Turn) -> None:
    """A one-time invite code: /invite DEPT [head] for an official, /invite supervisor [REGION]."""
    args, tz = turn.args, turn.svc.settings.tz
    if not args:
        turn.reply(texts.USAGE_INVITE)
        return
    if args[0].lower() == "supervisor":
        region, names = None, await region_names(session=turn.session)
        if len(args) > 1:
            region = await find_region(session=turn.session, query=args[1][:32], names=names)
            if region is None:
                raise DomainError("unknown_region", query=args[1][:32],
                                  known="、".join(f"{name}（{code}）" for code, name in sorted(names.items())))
        if not scope.may_invite(turn.actor, role=Role.SUPERVISOR, department=None, region=region):
            raise DomainError("invite_out_of_scope", region=scope.supervisor_region(turn.actor) or "")
        invite, code = await create_invite(session=turn.session, actor=turn.actor, now=turn.now, department=None,
                                           role=Role.SUPERVISOR, region=region)
        turn.reply(texts.INVITE_SUPERVISOR_CREATED.format(
            code=code, region=region_note(region_label(region, names)),
            expires=texts.local_time(invite.expires_at, tz)))
        return
    is_head = len(args) > 1 and args[-1].lower() in ("head", "负责人")
    query = " ".join(args[:-1] if is_head else args)
    department = await _one_department(turn, query)
    if not scope.may_invite(turn.actor, role=Role.OFFICIAL, department=department, region=None):
        raise DomainError("out_of_region", query=query[:64])
    invite, code = await create_invite(session=turn.session, actor=turn.actor, now=turn.now, department=department,
                                       is_head=is_head)
    turn.reply(texts.INVITE_CREATED.format(
        code=code, department=texts.esc(department.name), head=texts.HEAD_MARK if is_head else "",
        expires=texts.local_time(invite.expires_at, tz)))


@door(roles=SUPERVISORS)
async def officials_command(turn: Turn) -> None:
    """Officials bound to a department, with unbind buttons (/officials DEPT); /officials supervisor: the
    invited supervisors this supervisor may unbind."""
    if not turn.args:
        turn.reply(texts.USAGE_OFFICIALS)
        return
    if turn.args[0].lower() in texts.SUPERVISOR_WORDS:
        await _supervisors(turn)
        return
    department = await _one_department(turn, " ".join(turn.args))
    officials = await officials_of(session=turn.session, department_id=department.id)
    if not officials:
        turn.reply(texts.OFFICIALS_EMPTY.format(department=texts.esc(department.name)))
        return
    lines = [texts.OFFICIALS_HEADER.format(department=texts.esc(department.name), count=len(officials))]
    lines += [texts.OFFICIAL_LINE.format(name=texts.esc(o.full_name or "?"), head=texts.HEAD_MARK if o.is_head else "",
                                         telegram_id=o.telegram_id) for o in officials]
    turn.reply("\n".join(lines),
               reply_markup=keyboards.unbind([(o.telegram_id, o.full_name or str(o.telegram_id)) for o in officials]))


async def _supervisors(turn: Turn) -> None:
    """/officials supervisor: the invited supervisors this supervisor may unbind, with unbind buttons."""
    people = await managed_supervisors(session=turn.session, actor=turn.actor,
                                       configured=turn.svc.settings.supervisors)
    if not people:
        turn.reply(texts.SUPERVISORS_EMPTY)
        return
    lines = [texts.SUPERVISORS_HEADER.format(count=len(people))]
    lines += [texts.SUPERVISOR_LINE.format(name=texts.esc(p.full_name or "?"), telegram_id=p.telegram_id,
                                           region=texts.esc(p.region) if p.region else texts.SUPERVISOR_CITY_WIDE)
              for p in people]
    turn.reply("\n".join(lines),
               reply_markup=keyboards.unbind([(p.telegram_id, p.full_name or str(p.telegram_id)) for p in people]))


async def _unbind(turn: Turn, telegram_id: int) -> None:
    account, role = await revoke_account(session=turn.session, actor=turn.actor, telegram_id=telegram_id,
                                         now=turn.now, configured=turn.svc.settings.supervisors)
    supervisor = role == Role.SUPERVISOR
    turn.outbox.to_account(account, texts.UNBOUND_SUPERVISOR_NOTICE if supervisor else texts.UNBOUND_NOTICE)
    name = texts.esc(account.full_name or str(account.telegram_id))
    turn.reply((texts.UNBOUND_SUPERVISOR if supervisor else texts.UNBOUND).format(name=name))


@door(roles=SUPERVISORS)
async def unbind_command(turn: Turn) -> None:
    """Take an official's or an invited supervisor's role away (/unbind TELEGRAM_ID)."""
    try:
        telegram_id = TELEGRAM_ID.parse(turn.args[0] if turn.args else "")
    except BadData:
        turn.reply(texts.USAGE_UNBIND)
        return
    await _unbind(turn, telegram_id)


@door(roles=SUPERVISORS, codec=UNBIND)
async def unbind_button(turn: Turn) -> None:
    """解除绑定 under /officials (ub:TELEGRAM_ID)."""
    await _unbind(turn, turn.data[0])


# --- the access log ------------------------------------------------------------------------------------


def _person(account: Account | None) -> str:
    if account is None:
        return texts.ACCESS_LOG_SYSTEM
    return texts.ACCESS_LOG_PERSON.format(name=texts.esc(account.full_name or "?"), telegram_id=account.telegram_id)


def _access(side: dict | None, entry: AccessEntry) -> str:
    """A role with its department or region, as `before`/`after` recorded it."""
    if not side or side.get("role") not in (Role.OFFICIAL, Role.SUPERVISOR):
        return texts.ACCESS_CITIZEN
    if side["role"] == Role.SUPERVISOR:
        return texts.ACCESS_SUPERVISOR.format(
            region=texts.esc(side["region"]) if side.get("region") else texts.SUPERVISOR_CITY_WIDE)
    department = entry.departments.get(side.get("department_id"))
    return texts.ACCESS_OFFICIAL.format(
        department=texts.esc(department.name) if department else texts.ACCESS_UNKNOWN_DEPARTMENT,
        head=texts.HEAD_MARK if side.get("is_head") else "")


def _entry_line(entry: AccessEntry, tz) -> str:
    event = entry.event
    if event.account_id is None:  # an invitation: nobody holds it yet
        what = _access(event.after, entry)
    else:
        what = texts.ACCESS_LOG_CHANGE.format(person=_person(entry.account), before=_access(event.before, entry),
                                              after=_access(event.after, entry))
    if event.action == "bind":
        by = texts.ACCESS_LOG_INVITED_BY.format(person=_person(entry.inviter)) if entry.inviter else ""
    else:
        by = texts.ACCESS_LOG_BY.format(person=_person(entry.actor))
    return texts.ACCESS_LOG_LINE.format(at=texts.local_time(event.created_at, tz),
                                        action=texts.ACCESS_LOG_ACTIONS.get(event.action, event.action),
                                        what=what, by=by)


@door(roles=SUPERVISORS)
async def accesslog_command(turn: Turn) -> None:
    """The latest invitations, bindings and unbindings in the supervisor's scope (/accesslog)."""
    region = region_note(scope.supervisor_region(turn.actor))
    entries = await recent_account_events(session=turn.session, actor=turn.actor, limit=ACCESS_LOG_SHOWN)
    if not entries:
        turn.reply(texts.ACCESS_LOG_EMPTY.format(region=region))
        return
    lines = [texts.ACCESS_LOG_HEADER.format(region=region, count=len(entries))]
    lines += [_entry_line(entry, turn.svc.settings.tz) for entry in entries]
    turn.reply(fit_lines(lines, texts.ACCESS_LOG_MORE))

# --- wiring ------------------------------------------------------------------------------------------


def register(application: Application) -> None:
    """Invitations, the lists of officials and supervisors, unbinding, the access log."""
    for name, callback in {"invite": invite_command, "officials": officials_command, "unbind": unbind_command,
                           "accesslog": accesslog_command}.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(unbind_button, pattern=UNBIND.pattern))
