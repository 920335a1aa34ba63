"""The case state machine: which action moves a case from which states to which, who may take it,
and what it does to the case's clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.roles import Role


class Status(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PENDING_REVIEW = "pending_review"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.PENDING_REVIEW})
FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.WITHDRAWN})

ALL_CLOCKS = ("assign", "accept", "reply", "commitment", "rectification", "follow_up")


@dataclass(frozen=True)
class ClockEffect:
    """Clocks an action fulfils (met, or missed if late), cancels, and starts."""

    settle: tuple[str, ...] = ()
    cancel: tuple[str, ...] = ()
    start: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]
    clocks: ClockEffect = field(default_factory=ClockEffect)


def _t(sources, target, roles, **clocks) -> Transition:
    return Transition(frozenset(sources), target, frozenset(roles), ClockEffect(**clocks))


S = Status
TRANSITIONS: dict[str, Transition] = {
    "assign": _t({S.SUBMITTED, S.ASSIGNED}, S.ASSIGNED, {Role.SUPERVISOR, Role.SYSTEM},
                 settle=("assign",), cancel=("accept",), start=("accept",)),
    "accept": _t({S.ASSIGNED}, S.IN_PROGRESS, {Role.OFFICIAL}, settle=("accept",), start=("reply",)),
    "dispute": _t({S.ASSIGNED}, S.SUBMITTED, {Role.OFFICIAL}, cancel=("accept",), start=("assign",)),
    "report": _t({S.IN_PROGRESS}, S.PENDING_REVIEW, {Role.OFFICIAL},
                 settle=("rectification", "commitment", "reply")),
    "verify": _t({S.PENDING_REVIEW}, S.CLOSED, {Role.SUPERVISOR}, cancel=ALL_CLOCKS),
    "tolerate": _t({S.IN_PROGRESS, S.PENDING_REVIEW}, S.CLOSED, {Role.SUPERVISOR}, cancel=ALL_CLOCKS),
    "send_back": _t({S.PENDING_REVIEW}, S.IN_PROGRESS, {Role.SUPERVISOR}, start=("rectification",)),
    "reject": _t({S.SUBMITTED, S.ASSIGNED}, S.REJECTED, {Role.SUPERVISOR}, cancel=ALL_CLOCKS),
    "withdraw": _t(OPEN_STATUSES, S.WITHDRAWN, {Role.CITIZEN}, cancel=ALL_CLOCKS),
    "reopen": _t({S.CLOSED}, S.IN_PROGRESS, {Role.CITIZEN, Role.SUPERVISOR}, start=("rectification",)),
}
