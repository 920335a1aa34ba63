"""The one command table: which roles have which command; /help and the per-role menus are made from it.

A command's words (menu label and help line with its usage) are in bot.texts.COMMAND_TEXTS; the
handler is registered by its feature module. A test checks that the table, the texts and the
registered handlers agree, so a command cannot work without appearing in its role's help and menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand

from bot import texts

CITIZEN, OFFICIAL, SUPERVISOR = "citizen", "official", "supervisor"
EVERYONE = (CITIZEN, OFFICIAL, SUPERVISOR)
STAFF = (OFFICIAL, SUPERVISOR)


@dataclass(frozen=True)
class Command:
    name: str
    roles: tuple[str, ...]
    # Shown in the Telegram menu (the ☰ list) as well as in /help; others only in /help.
    in_menu: bool = True


# In the order help lists them: a role's own work first, then what everyone has.
TABLE: tuple[Command, ...] = (
    Command("tasks", (OFFICIAL,)),
    Command("case", STAFF),
    Command("cases", (SUPERVISOR,)),
    Command("find", (SUPERVISOR,)),
    Command("accept", (OFFICIAL,)),
    Command("reply", (OFFICIAL,)),
    Command("commit", (OFFICIAL,)),
    Command("rectified", (OFFICIAL,)),
    Command("extend", (OFFICIAL,)),
    Command("dispute", (OFFICIAL,)),
    Command("objection", (OFFICIAL,), in_menu=False),
    Command("repair", (OFFICIAL,), in_menu=False),
    Command("assign", (SUPERVISOR,)),
    Command("domain", (SUPERVISOR,), in_menu=False),
    Command("verify", (SUPERVISOR,)),
    Command("reopen", (SUPERVISOR,)),
    Command("tolerate", (SUPERVISOR,)),
    Command("reject", (SUPERVISOR,)),
    Command("broken", (SUPERVISOR,), in_menu=False),
    Command("overdue", (SUPERVISOR,)),
    Command("stats", (SUPERVISOR,)),
    Command("report", (SUPERVISOR,)),
    Command("score", (SUPERVISOR,)),
    Command("web", STAFF),
    Command("invite", (SUPERVISOR,)),
    Command("officials", (SUPERVISOR,)),
    Command("unbind", (SUPERVISOR,), in_menu=False),
    Command("accesslog", (SUPERVISOR,)),
    Command("register", STAFF, in_menu=False),
    Command("fulfilled", (OFFICIAL,), in_menu=False),
    Command("amend", (OFFICIAL,), in_menu=False),
    Command("kept", (SUPERVISOR,), in_menu=False),
    Command("complain", EVERYONE),
    Command("mycases", EVERYONE),
    Command("status", EVERYONE),
    Command("supplement", (CITIZEN,)),
    Command("withdraw", (CITIZEN,)),
    Command("commitments", EVERYONE),
    Command("commitment", EVERYONE, in_menu=False),
    Command("cancel", EVERYONE),
    Command("privacy", EVERYONE),
    Command("mydata", (CITIZEN,), in_menu=False),
    Command("forgetme", (CITIZEN,), in_menu=False),
    Command("bind", (CITIZEN,), in_menu=False),
    Command("start", EVERYONE, in_menu=False),
    Command("help", EVERYONE),
)
NAMES = frozenset(c.name for c in TABLE)


def commands_of(role: str) -> list[Command]:
    return [c for c in TABLE if role in c.roles]


def help_text(role: str) -> str:
    """/help for a role: every command the role has, with its usage."""
    lines = [texts.HELP_HEADERS[role]]
    lines += [texts.HELP_LINE.format(line=texts.COMMAND_TEXTS[c.name][1]) for c in commands_of(role)]
    return "\n".join(lines) + "\n\n" + texts.HELP_FOOTERS[role]


def menu(role: str) -> list[BotCommand]:
    """The Telegram command menu for a role (set per chat with BotCommandScopeChat)."""
    return [BotCommand(c.name, texts.COMMAND_TEXTS[c.name][0]) for c in commands_of(role) if c.in_menu]
