"""Who is acting: the account and the role it acts in for this request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.db.models import Account


class Role(StrEnum):
    CITIZEN = "citizen"
    OFFICIAL = "official"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The caller of a domain function; `account` is None only for the system itself."""

    role: Role
    account: Account | None = None

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account else None

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def is_official(self) -> bool:
        return self.role is Role.OFFICIAL


SYSTEM = Actor(Role.SYSTEM)
