"""The case state machine: which action moves a case from which states to which, and who may take it."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]


_OPEN = OPEN_STATUSES
TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(frozenset({Status.SUBMITTED, Status.ASSIGNED}), Status.ASSIGNED,
                         frozenset({Role.SUPERVISOR, Role.SYSTEM})),
    "accept": Transition(frozenset({Status.ASSIGNED}), Status.IN_PROGRESS, frozenset({Role.OFFICIAL})),
    "dispute": Transition(frozenset({Status.ASSIGNED}), Status.SUBMITTED, frozenset({Role.OFFICIAL})),
    "report": Transition(frozenset({Status.IN_PROGRESS}), Status.PENDING_REVIEW, frozenset({Role.OFFICIAL})),
    "verify": Transition(frozenset({Status.PENDING_REVIEW}), Status.CLOSED, frozenset({Role.SUPERVISOR})),
    "send_back": Transition(frozenset({Status.PENDING_REVIEW}), Status.IN_PROGRESS, frozenset({Role.SUPERVISOR})),
    "reject": Transition(frozenset({Status.SUBMITTED, Status.ASSIGNED}), Status.REJECTED,
                         frozenset({Role.SUPERVISOR})),
    "withdraw": Transition(_OPEN, Status.WITHDRAWN, frozenset({Role.CITIZEN})),
    "reopen": Transition(frozenset({Status.CLOSED}), Status.IN_PROGRESS,
                         frozenset({Role.CITIZEN, Role.SUPERVISOR})),
}
