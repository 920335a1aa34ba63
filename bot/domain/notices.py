"""Messages people must receive because something changed, written as outbound rows in the same transaction.

A handler or job says who should hear what; the rows commit with the change (or roll back with it), and
the one sender (bot.delivery) delivers them with retries. Recipients are chosen here, through the scope
function, so a regional supervisor hears only of their region.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Department, Evidence, OutboundMessage
from bot.db.prepared import Prepared, new_row_values
from bot.domain import outbox
from bot.domain.duplicates import co_complainants_of
from bot.domain.officials import officials_of
from bot.domain.scope import supervisors_for
from nlp.pii import neutral_file_name


_INSERT_ROW = Prepared(insert(OutboundMessage.__table__).returning(OutboundMessage.__table__.c.id))


def _markup(markup: Any) -> dict | None:
    """Keyboards arrive as objects with `to_dict` (Telegram's) or as plain dicts; rows keep the dict."""
    if markup is None or isinstance(markup, dict):
        return markup
    return markup.to_dict()


class Notices:
    """Outbound rows of one transaction, and their ids once flushed (the wrapper delivers those at once)."""

    def __init__(self, session: AsyncSession | None = None, *, supervisors: Collection[int] = (),
                 now: datetime | None = None) -> None:
        self.session, self.configured, self.now = session, tuple(supervisors), now
        self.not_before: datetime | None = None
        self.sender: str | None = None
        self.rows: list[OutboundMessage] = []
        self.ids: list[int] = []

    def bind(self, session: AsyncSession, supervisors: Collection[int], now: datetime, *,
             held_for: timedelta = timedelta(0), sender: str | None = None) -> None:
        """`sender`, `held_for`: the rows are written claimed by this sender (the update's own: it sends them
        right after the commit, in the order written), and no sweep takes them for `held_for` — only if the
        writer died after the commit."""
        self.session, self.configured, self.now = session, tuple(supervisors), now
        self.not_before, self.sender = now + held_for, sender

    def _add(self, chat_id: int, account_id: int | None, text: str, *, kind: str = "notice", markup: Any = None,
             media: str | None = None, file_id: str | None = None, filename: str | None = None) -> None:
        self.rows.append(outbox.enqueue(session=self.session, chat_id=chat_id, account_id=account_id, kind=kind,
                                        text=text, now=self.now, markup=_markup(markup), media=media,
                                        file_id=file_id, filename=filename, not_before=self.not_before,
                                        sender=self.sender))

    def to_account(self, account: Account, text: str, *, reply_markup: Any = None, kind: str = "notice") -> None:
        if not account.unreachable:
            self._add(account.telegram_id, account.id, text, kind=kind, markup=reply_markup)

    def to_chat(self, chat_id: int, text: str, *, reply_markup: Any = None, kind: str = "notice") -> None:
        self._add(chat_id, None, text, kind=kind, markup=reply_markup)

    async def to_complainants(self, case, text: str, *, reply_markup: Any = None) -> None:
        """The person who filed the case and everyone who joined it (联名投诉人)."""
        self.to_account(case.complainant, text, reply_markup=reply_markup)
        for account in await co_complainants_of(session=self.session, case_id=case.id):
            self.to_account(account, text, reply_markup=reply_markup)

    async def to_officials(self, department_id: int, text: str, *, heads_only: bool = False,
                           reply_markup: Any = None) -> list[Account]:
        officials = await officials_of(session=self.session, department_id=department_id, heads_only=heads_only)
        for official in officials:
            self.to_account(official, text, reply_markup=reply_markup)
        return officials

    async def to_supervisors(self, text: str, *, department: Department | None, reply_markup: Any = None) -> None:
        """Supervisors in whose scope `department` is (None: a city-level matter, city-wide supervisors)."""
        region = department.region if department is not None else None
        for person in await supervisors_for(session=self.session, configured=self.configured, region=region):
            if department is None and person.region is not None:
                continue
            self._add(person.chat_id, person.account_id, text, markup=reply_markup)

    def evidence_to(self, account: Account, items: list[Evidence], *, masked: bool = True) -> None:
        """Evidence forwarded as photos or documents, with the masked caption (captions carry numbers too);
        `masked=False` for someone who sees the complaint's full text (a supervisor in scope)."""
        if account.unreachable:
            return
        for number, item in enumerate(items, start=1):
            caption = ((item.caption_masked if masked else item.caption) or "")[:900]
            # A document keeps its file name on Telegram ("张三身份证.pdf"): the sender re-uploads it renamed.
            renamed = neutral_file_name(number, item.file_name, item.mime_type) \
                if masked and item.kind != "photo" else None
            self._add(account.telegram_id, account.id, caption, kind="evidence",
                      media="photo" if item.kind == "photo" else "document", file_id=item.file_id,
                      filename=renamed)

    async def write(self, session: AsyncSession) -> None:
        """Write this transaction's rows and keep their ids, for delivery right after the commit. When they
        are all the session has to write, each is one prepared INSERT (bot/db/prepared.py) and leaves the
        session, instead of a flush of the unit of work; otherwise the session's flush writes them with the rest."""
        pending = [row for row in self.rows if row.id is None]
        if set(session.new) != set(pending) or session.dirty or session.deleted:
            await session.flush()
        else:
            connection = await session.connection()
            for row in pending:  # in the order written: ids ascending, the order they are sent in
                session.expunge(row)  # written here, not by a later flush
                row.id = (await _INSERT_ROW.first(connection, new_row_values(row)))[0]
        self.remember_ids()

    def remember_ids(self) -> None:
        """After the flush: the ids of this transaction's rows, for delivery right after the commit."""
        self.ids = [row.id for row in self.rows if row.id is not None]

    @property
    def written(self) -> list[OutboundMessage]:
        """This transaction's rows as written (after `write`), in order: what its sender sends after the commit."""
        return [row for row in self.rows if row.id is not None]
