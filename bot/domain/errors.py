"""Refusals the domain raises; handlers turn each code into a polite message from bot.texts."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse. `code` names the reason; `params` fill the message."""

    code = "refused"

    def __init__(self, code: str | None = None, **params: object) -> None:
        self.code = code or self.code
        self.params = params
        super().__init__(f"{self.code}: {params}" if params else self.code)


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidTransition(DomainError):
    code = "bad_transition"


class RateLimited(DomainError):
    code = "rate_limited"


class StaleAction(DomainError):
    """A button or step that belongs to a conversation that has moved on or ended."""

    code = "stale"


class InvalidInput(DomainError):
    code = "invalid_input"
