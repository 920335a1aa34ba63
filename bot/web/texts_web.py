"""Every word the web pages show that is not in a template: labels, rule explanations, refusals (zh-CN).

The lead may fold these into bot/texts.py; the templates take them from here.
"""

from __future__ import annotations

SITE_TITLE = "盐城市政务诚信公示"
SITE_SUBTITLE = "政务失信记录公示 · 承诺公开 · 部门诚信评价"

RECORD_STATUS = {
    "rectifying": "整改中",
    "rectified": "已整改",
    "repaired": "已修复",
    "objection": "异议处理中",
}

# What each [disclosure] rule of bot/data/policy.toml does, as the page says it.
RULE_NAMES = {
    "repaired": "信用修复",
    "tolerated": "容错纠错",
    "objection_pending": "异议申诉",
    "public_years": "公示期",
    "revoked": "异议成立撤销",
}
RULE_TEXT = {
    ("repaired", "mark"): "经信用修复的记录继续公示，标注“已修复”",
    ("repaired", "hide"): "经信用修复的记录不再公示",
    ("tolerated", "mark"): "案件经认定属容错纠错情形的，记录继续公示并标注“容错纠错”",
    ("tolerated", "hide"): "案件经认定属容错纠错情形的，不纳入公示",
    ("objection_pending", "mark"): "部门提出异议申诉、尚在处理的记录继续公示，标注“异议处理中”",
    ("objection_pending", "hide"): "部门提出异议申诉、尚在处理的记录暂不公示",
    ("revoked", "hide"): "异议申诉成立、已撤销的记录不公示",
}
RULE_YEARS = "记录自认定之日起公示 {years} 年，期满不再公示"
RULE_HIDDEN = "（依此规则未公示 {n} 条）"
RULE_APPLIED = {
    "repaired": "依信用修复规则标注",
    "tolerated": "依容错纠错规则标注",
    "objection_pending": "依异议申诉规则标注",
}

YEAR = "{year} 年"

COMMITMENT_STATUS = {
    "approved": "履行中", "reported": "已报告兑现，待确认", "fulfilled": "已兑现", "broken": "未兑现（失信）",
}

CASE_STATUS = {
    "submitted": "待分派", "assigned": "待受理", "in_progress": "办理中", "pending_review": "待核查",
    "closed": "已办结", "rejected": "不予受理", "withdrawn": "已撤回",
}

CLOCK_KIND = {
    "assign": "分派", "accept": "受理", "reply": "答复", "commitment": "承诺", "rectification": "整改",
    "follow_up": "回访",
}

ROLE_NAMES = {"supervisor": "督办", "official": "承办部门"}

DECISION_DONE = {
    "exd": ("同意延期", "不同意延期"),
    "obd": ("异议成立", "异议不成立"),
    "rpd": ("同意修复", "不同意修复"),
    "cmd": ("批准承诺", "退回承诺"),
}
DECISION_SAVED = "已处理：{decision}。相关承办人将收到机器人消息。"

LOGIN_EXPIRED = "登录链接无效、已使用或已过期。请在机器人中重新发送 /web 获取新的链接。"
LOGIN_NEEDED = "请先登录：在机器人私聊中发送 /web，点击收到的一次性链接。"
FORBIDDEN = "您无权查看或处理该内容。"
NOT_FOUND = "没有找到该页面或内容。"
TOO_MANY = "请求过于频繁，请稍后再试。"
BAD_FORM = "表单已失效，请刷新页面后重试。"
BAD_MONTH = "月份格式应为 2026-11。"
REPORT_EMPTY = "{month} 没有任何数据（无案件、无逾期、无失信记录），不生成报表。"
