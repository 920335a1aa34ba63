"""The long-lived resources every handler and job uses, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.db.session import Database
from bot.domain.duplicates import DuplicateFinder
from bot.domain.obligations import Deadlines
from bot.domain.triage import Triager
from bot.policy import Policy

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    triager: Triager
    policy: Policy
    deadlines: Deadlines
    duplicates: DuplicateFinder = field(default_factory=DuplicateFinder)


def services(context: Any) -> Services:
    """The Services of the running Application, from any callback or job context."""
    return context.bot_data[SERVICES_KEY]
