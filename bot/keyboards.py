"""Inline and reply keyboards. Callback data stays under Telegram's 64 bytes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot import texts

DOMAIN_ORDER = ("procurement", "ppp", "bidding", "investment", "debt", "statistics", "township", "judgment",
                "conduct")


@functools.cache
def main_menu() -> ReplyKeyboardMarkup:
    # Built once: Telegram objects are frozen once made, so every reply can share this one.
    return ReplyKeyboardMarkup(
        [[texts.BTN_COMPLAIN, texts.BTN_MY_CASES], [texts.BTN_STATUS, texts.BTN_HELP]],
        resize_keyboard=True,
        is_persistent=True,
    )


def _rows(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i:i + width]) for i in range(0, len(buttons), width)]


def domain_choice(draft_id: int, winner: str | None, *, offer_other: bool) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    if winner and winner != "other":
        label = texts.BTN_CONFIRM_DOMAIN.format(label=texts.domain_label(winner))
        rows.append([Button(label, callback_data=f"c:{draft_id}:dom:{winner}")])
    others = [Button(texts.domain_label(code), callback_data=f"c:{draft_id}:dom:{code}")
              for code in DOMAIN_ORDER if code != winner]
    rows += _rows(others, 2)
    if offer_other:
        rows.append([Button(texts.BTN_KEEP_OTHER, callback_data=f"c:{draft_id}:dom:other")])
    rows.append([Button(texts.BTN_CANCEL, callback_data=f"c:{draft_id}:x")])
    return InlineKeyboardMarkup(rows)


def department_choice(draft_id: int, departments: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    rows = [[Button(name, callback_data=f"c:{draft_id}:dep:{code}")] for code, name in departments]
    rows.append([
        Button(texts.BTN_DEPT_OTHER, callback_data=f"c:{draft_id}:dep:?"),
        Button(texts.BTN_DEPT_UNKNOWN, callback_data=f"c:{draft_id}:dep:-"),
    ])
    return InlineKeyboardMarkup(rows)


def evidence_choice(draft_id: int, *, received: int) -> InlineKeyboardMarkup:
    label = texts.BTN_EVIDENCE_DONE if received else texts.BTN_EVIDENCE_SKIP
    return InlineKeyboardMarkup([[Button(label, callback_data=f"c:{draft_id}:ev")]])


def contact_choice(draft_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        Button(texts.BTN_CONTACT_YES, callback_data=f"c:{draft_id}:ct:1"),
        Button(texts.BTN_CONTACT_NO, callback_data=f"c:{draft_id}:ct:0"),
    ]])


def confirm_choice(draft_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        Button(texts.BTN_SUBMIT, callback_data=f"c:{draft_id}:ok"),
        Button(texts.BTN_CANCEL, callback_data=f"c:{draft_id}:x"),
    ]])


def pager(prefix: str, page: int, pages: int) -> list[Button]:
    buttons = []
    if page > 1:
        buttons.append(Button(texts.BTN_PREV, callback_data=f"{prefix}:{page - 1}"))
    if page < pages:
        buttons.append(Button(texts.BTN_NEXT, callback_data=f"{prefix}:{page + 1}"))
    return buttons


def case_list(refs: Iterable[str], prefix: str, page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [[Button(ref, callback_data=f"st:{ref}")] for ref in refs]
    navigation = pager(prefix, page, pages)
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(rows)


def own_case_actions(ref: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        Button(texts.BTN_SUPPLEMENT, callback_data=f"sup:{ref}"),
        Button(texts.BTN_WITHDRAW, callback_data=f"wd:{ref}"),
    ]])


def withdraw_confirm(ref: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        Button(texts.BTN_WITHDRAW_CONFIRM, callback_data=f"wdy:{ref}"),
        Button(texts.BTN_KEEP, callback_data=f"wdn:{ref}"),
    ]])


def supplement_done(draft_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(texts.BTN_SUPPLEMENT_DONE, callback_data=f"sd:{draft_id}")]])


def assign_choice(ref: str, departments: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(name, callback_data=f"as:{ref}:{code}")] for code, name in departments])


def supervisor_case_actions(ref: str, *, has_evidence: bool) -> InlineKeyboardMarkup | None:
    if not has_evidence:
        return None
    return InlineKeyboardMarkup([[Button(texts.BTN_SHOW_EVIDENCE, callback_data=f"ev:{ref}")]])


def accept_or_dispute(ref: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        Button(texts.BTN_ACCEPT, callback_data=f"acc:{ref}"),
        Button(texts.BTN_DISPUTE, callback_data=f"dsp:{ref}"),
    ]])


def dispute_reasons(ref: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(label, callback_data=f"dspr:{ref}:{code}")]
                                 for code, label in texts.DISPUTE_REASONS.items()])


def insist(ref: str, department_code: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(texts.BTN_INSIST, callback_data=f"as:{ref}:{department_code}")]])


def _decision(prefix: str, item_id: int, yes: str, no: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        Button(yes, callback_data=f"{prefix}:{item_id}:1"),
        Button(no, callback_data=f"{prefix}:{item_id}:0"),
    ]])


def commitment_decision(commitment_id: int) -> InlineKeyboardMarkup:
    return _decision("cmd", commitment_id, texts.BTN_APPROVE, texts.BTN_RETURN)


def extension_decision(extension_id: int) -> InlineKeyboardMarkup:
    return _decision("exd", extension_id, texts.BTN_GRANT, texts.BTN_DENY)


def objection_decision(record_id: int) -> InlineKeyboardMarkup:
    return _decision("obd", record_id, texts.BTN_UPHOLD, texts.BTN_OVERRULE)


def repair_decision(record_id: int) -> InlineKeyboardMarkup:
    return _decision("rpd", record_id, texts.BTN_REPAIR_OK, texts.BTN_REPAIR_NO)


def evidence_finished(draft_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(texts.BTN_EVIDENCE_FINISHED, callback_data=f"ef:{draft_id}")]])


def unbind(telegram_ids: Iterable[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    rows = [[Button(f"{texts.BTN_UNBIND}：{name}", callback_data=f"ub:{telegram_id}")] for telegram_id, name in telegram_ids]
    return InlineKeyboardMarkup(rows) if rows else None


def satisfaction(ref: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(label, callback_data=f"sat:{ref}:{code}")
                                  for code, label in texts.RATING_LABELS.items()]])


def new_or_old(draft_id: int) -> InlineKeyboardMarkup:
    """A long new text typed in the middle of a complaint: continue the old one, or file the new one."""
    return InlineKeyboardMarkup([
        [Button(texts.BTN_CONTINUE_OLD, callback_data=f"c:{draft_id}:new:keep")],
        [Button(texts.BTN_START_NEW, callback_data=f"c:{draft_id}:new:start")],
    ])


def duplicate_choice(draft_id: int, *, can_join: bool) -> InlineKeyboardMarkup:
    rows = [[Button(texts.BTN_JOIN_CASE, callback_data=f"c:{draft_id}:dup:join")]] if can_join else []
    rows.append([Button(texts.BTN_FILE_SEPARATELY, callback_data=f"c:{draft_id}:dup:new")])
    rows.append([Button(texts.BTN_CANCEL, callback_data=f"c:{draft_id}:x")])
    return InlineKeyboardMarkup(rows)


def detail_choice(draft_id: int, *, has_value: bool) -> InlineKeyboardMarkup:
    row = [Button(texts.BTN_DETAIL_OK, callback_data=f"c:{draft_id}:det:ok")] if has_value else []
    row.append(Button(texts.BTN_DETAIL_SKIP, callback_data=f"c:{draft_id}:det:skip"))
    return InlineKeyboardMarkup([row])


def open_cases(refs: Iterable[str]) -> InlineKeyboardMarkup:
    """查看 REF, one row per case, under a reminder or escalation digest (handled by supervisor.VIEW_CASE)."""
    return InlineKeyboardMarkup([[Button(texts.BTN_OPEN_CASE.format(ref=ref), callback_data=f"vc:{ref}")]
                                 for ref in refs])


def report_read(department_id: int, month_key: str) -> InlineKeyboardMarkup:
    """已阅 under a head's monthly sheet (handled by supervision.REPORT_READ)."""
    return InlineKeyboardMarkup([[Button(texts.BTN_REPORT_READ, callback_data=f"rr:{department_id}:{month_key}")]])
