"""An account and its draft read by Core statements, for an update handled without an ORM session.

A conversation step that only reads the actor and draft and writes the draft back needs none of the
ORM's machinery: the door's Core mode (handlers/door.py) reads both with one statement into these plain
records, runs the step, and writes the draft's changed columns with one prebuilt UPDATE. Anything the
records cannot give without a session (the account's department, the draft's account) raises
`NeedsSession`, and so does any use of the step's stand-in session: the door then rolls the Core
transaction back and handles the update again the ordinary way, so such a step behaves exactly as before.
"""

from __future__ import annotations

from typing import Any

from bot.db.models import Account, Draft


class NeedsSession(Exception):
    """The step does more than read its actor and draft and write the draft back: it needs a session.

    Not a DomainError: it is no refusal, only the door's cue to run the update again with a session."""


class NoSession:
    """The session of a step on a Core connection: any use of it is `NeedsSession`."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raise NeedsSession(name)


NO_SESSION = NoSession()

ACCOUNT_COLUMNS = tuple(Account.__table__.c)
DRAFT_COLUMNS = tuple(Draft.__table__.c)


class AccountRow:
    """An account's columns as read (the attributes of `Account` by the same names); no relationships."""

    __slots__ = tuple(column.key for column in ACCOUNT_COLUMNS)

    def __init__(self, values: tuple) -> None:
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        # A change to the account is the ORM door's to write (last seen, name, reachability: see `accounts`).
        raise NeedsSession(name)

    @property
    def department(self) -> Any:
        raise NeedsSession("department")

    def changed(self, changes: dict[str, Any]) -> AccountRow:
        """The same account with `changes` applied (written by the caller: this record is read-only)."""
        return AccountRow(tuple(changes.get(name, getattr(self, name)) for name in self.__slots__))


class DraftRow:
    """A draft's columns as read; a step changes them as it would an ORM `Draft` (`drafts.advance`, `.data
    = …`), and `drafts.save_row` writes what changed."""

    __slots__ = tuple(column.key for column in DRAFT_COLUMNS) + ("read",)

    def __init__(self, values: tuple) -> None:
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)
        self.read = values  # what was read, to write only what changed

    @property
    def account(self) -> Any:
        raise NeedsSession("account")

    def changes(self) -> dict[str, Any]:
        """The columns whose value differs from the one read (as the ORM's history would have them)."""
        return {name: value for name, old in zip(self.__slots__, self.read)
                if (value := getattr(self, name)) != old}
