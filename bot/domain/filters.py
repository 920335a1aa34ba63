"""The /cases filter vocabulary: the words a supervisor may type for a status or a domain.

Statuses: the code (`submitted`), the full label of texts.STATUS_LABELS, each part of it (待分派, 已分派,
整改完成…) and a few everyday words (办理中, 已办结, 办结…). Domains: the code, the label of
texts.DOMAIN_LABELS and short names (债务, 采购, 招商, 判决, 统计, 乡镇, 街道, 招投标, PPP, 公务员…).
Departments are looked up by name, code or alias in the department directory (bot.domain.departments).
"""

from __future__ import annotations

from bot import texts

_STATUS_EXTRA = {
    "待分派": "submitted", "未分派": "submitted", "新案件": "submitted", "已登记": "submitted",
    "待受理": "assigned", "已分派": "assigned", "已转交": "assigned",
    "办理中": "in_progress", "在办": "in_progress", "承办中": "in_progress", "已受理": "in_progress",
    "待核查": "pending_review", "待督办核查": "pending_review", "整改完成": "pending_review",
    "已办结": "closed", "办结": "closed", "已关闭": "closed", "结案": "closed",
    "不予受理": "rejected", "驳回": "rejected",
    "已撤回": "withdrawn", "撤回": "withdrawn",
}
_DOMAIN_EXTRA = {
    "采购": "procurement", "政府采购": "procurement",
    "ppp": "ppp", "政府和社会资本合作": "ppp", "社会资本合作": "ppp",
    "招投标": "bidding", "招标": "bidding", "投标": "bidding", "招标投标": "bidding",
    "招商": "investment", "招商引资": "investment",
    "债务": "debt", "政府债务": "debt", "地方债务": "debt", "欠款": "debt",
    "统计": "statistics", "统计造假": "statistics",
    "乡镇": "township", "街道": "township", "镇街": "township", "街道乡镇": "township", "乡镇街道": "township",
    "判决": "judgment", "被执行": "judgment", "失信被执行": "judgment", "执行": "judgment",
    "公务员": "conduct", "公职人员": "conduct", "干部": "conduct",
    "其他": "other",
}


def _status_words() -> dict[str, str]:
    words = {code: code for code in texts.STATUS_LABELS}
    for code, label in texts.STATUS_LABELS.items():
        words[label] = code
        for part in label.replace("，", ",").split(","):
            words.setdefault(part.strip(), code)
    words.update(_STATUS_EXTRA)
    return words


def _domain_words() -> dict[str, str]:
    words = {code: code for code in texts.DOMAIN_LABELS}
    words.update({label: code for code, label in texts.DOMAIN_LABELS.items()})
    words.update(_DOMAIN_EXTRA)
    return words


STATUS_WORDS = _status_words()
DOMAIN_WORDS = _domain_words()
OVERDUE_WORDS = ("overdue", "逾期", "已逾期", "超期")


def status_of(word: str) -> str | None:
    """The status code a typed word names, or None."""
    return STATUS_WORDS.get(word) or STATUS_WORDS.get(word.lower())


def domain_of(word: str) -> str | None:
    """The domain code a typed word names, or None."""
    return DOMAIN_WORDS.get(word) or DOMAIN_WORDS.get(word.lower())


def is_overdue_word(word: str) -> bool:
    return word.lower() in OVERDUE_WORDS


def accepted_statuses() -> str:
    """For the refusal: one short word per status."""
    short = {"submitted": "待分派", "assigned": "待受理", "in_progress": "办理中", "pending_review": "待核查",
             "closed": "已办结", "rejected": "不予受理", "withdrawn": "已撤回"}
    return "、".join(short.get(code, code) for code in texts.STATUS_LABELS)


def accepted_domains() -> str:
    short = {"procurement": "采购", "ppp": "PPP", "bidding": "招投标", "investment": "招商", "debt": "债务",
             "statistics": "统计", "township": "乡镇/街道", "judgment": "判决", "conduct": "公务员",
             "other": "其他"}
    return "、".join(short.get(code, code) for code in texts.DOMAIN_LABELS)


__all__ = ["DOMAIN_WORDS", "OVERDUE_WORDS", "STATUS_WORDS", "accepted_domains", "accepted_statuses", "domain_of",
           "is_overdue_word", "status_of"]
