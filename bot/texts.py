"""Every user-facing string (简体中文 first). HTML parse mode: user text goes through `esc`."""

from __future__ import annotations

import re

from datetime import datetime
from html import escape as esc
from zoneinfo import ZoneInfo

MIN_TEXT, MAX_TEXT = 10, 4000

DOMAIN_LABELS = {
    "procurement": "政府采购",
    "ppp": "政府和社会资本合作",
    "bidding": "招标投标",
    "investment": "招商引资",
    "debt": "地方政府债务",
    "statistics": "统计",
    "township": "街道和乡镇",
    "judgment": "涉府失信被执行",
    "conduct": "公务员失信",
    "other": "其他",
}

STATUS_LABELS = {
    "submitted": "已受理登记，待分派",
    "assigned": "已分派，待承办部门受理",
    "in_progress": "办理中",
    "pending_review": "整改完成，待督办核查",
    "closed": "已办结",
    "rejected": "不予受理",
    "withdrawn": "已撤回",
}

ACTION_LABELS = {
    "create": "提交投诉，已立案",
    "assign": "分派至承办部门",
    "accept": "承办部门受理",
    "dispute": "承办部门提出异议，退回督办",
    "report": "承办部门报告整改完成",
    "verify": "核查办结",
    "send_back": "退回承办部门重办",
    "reject": "不予受理",
    "withdraw": "投诉人撤回",
    "reopen": "重新办理",
    "supplement": "投诉人补充说明",
    "evidence": "投诉人补充证据",
    "rectification_evidence": "承办部门提交整改证据",
    "anonymise": "投诉人身份信息已匿名化",
}

# Reply-keyboard buttons (also matched as text triggers).
BTN_COMPLAIN = "我要投诉"
BTN_MY_CASES = "我的投诉"
BTN_STATUS = "查询进度"
BTN_HELP = "帮助"

BTN_CONFIRM_DOMAIN = "✅ 是，{label}"
BTN_KEEP_OTHER = "仍按“其他”提交"
BTN_DEPT_OTHER = "其他部门（输入名称）"
BTN_DEPT_UNKNOWN = "不清楚"
BTN_EVIDENCE_DONE = "完成"
BTN_EVIDENCE_SKIP = "跳过"
BTN_CONTACT_YES = "同意联系"
BTN_CONTACT_NO = "不同意"
BTN_SUBMIT = "确认提交"
BTN_CANCEL = "取消"
BTN_PREV = "‹ 上一页"
BTN_NEXT = "下一页 ›"
BTN_SUPPLEMENT = "补充材料"
BTN_WITHDRAW = "撤回投诉"
BTN_WITHDRAW_CONFIRM = "确认撤回"
BTN_KEEP = "不撤回"
BTN_SUPPLEMENT_DONE = "补充完毕"
BTN_SHOW_EVIDENCE = "查看证据"

PRIVATE_ONLY = "为保护您的隐私，本机器人只在私聊中工作。请点击我的头像，私聊发送 /start。"

WELCOME = {
    "citizen": (
        "您好！这里是<b>政务诚信投诉平台</b>。\n\n"
        "如果政府部门、街道乡镇或公职人员有不守承诺、拖欠款项、拒不履行判决、"
        "招投标不公、推诿扯皮等失信行为，您可以在这里反映。\n\n"
        "点“我要投诉”，或直接用文字描述经过即可。您的身份不会向被投诉部门公开。"
    ),
    "official": "您好！您已作为承办人登录。发送 /help 查看可用命令。",
    "supervisor": "您好，督办同志！发送 /help 查看督办命令。",
}

# --- the command table's words (handlers/commands.py builds /help and the menus from them) ----------

# name → (menu description, help line). The help line carries the usage; the menu a short label.
COMMAND_TEXTS = {
    "start": ("开始", "/start：欢迎与主菜单"),
    "help": ("帮助", "/help：本帮助"),
    "complain": ("我要投诉", "我要投诉 或 /complain：反映政务失信问题（也可直接发送文字）"),
    "mycases": ("我的投诉", "我的投诉 或 /mycases：查看您提交或联名的全部投诉"),
    "status": ("查询进度：/status 编号", "查询进度 或 /status 编号：办理进度，例如 /status YC-20261127-0042"),
    "supplement": ("补充材料：/supplement 编号", "/supplement 编号 [内容]：为办理中的投诉补充说明或证据"),
    "withdraw": ("撤回投诉：/withdraw 编号", "/withdraw 编号：撤回投诉"),
    "cancel": ("放弃正在填写的投诉", "/cancel：放弃正在填写的内容"),
    "commitments": ("承诺公开：/commitments [关键词]", "/commitments [部门或关键词]：政府承诺台账（督办可用 overdue、rate [时间段]，默认今年）"),
    "commitment": ("承诺详情：/commitment 承诺编号", "/commitment 承诺编号：承诺详情与版本记录"),
    "bind": ("绑定承办人：/bind 邀请码", "/bind 邀请码：用督办部门提供的邀请码绑定身份"),
    "tasks": ("本部门待办", "/tasks：本部门待办案件，按最近期限排序"),
    "case": ("案件详情：/case 编号", "/case 编号：案件详情（承办人看到的内容已隐去投诉人信息）"),
    "accept": ("受理：/accept 编号", "/accept 编号：受理分派给本部门的案件（也可点“受理”）"),
    "reply": ("答复：/reply 编号 内容", "/reply 编号 答复内容：答复投诉人（由平台转达）"),
    "commit": ("登记承诺：/commit 编号 日期 内容",
               "/commit 编号 日期 承诺内容：登记承诺（日期可写 2026-12-31、12月31日前、30个工作日内、下周五）"),
    "rectified": ("报告整改：/rectified 编号 内容", "/rectified 编号 整改情况：报告整改完成，之后可发送照片或文件"),
    "extend": ("申请延期：/extend 编号 日期 理由", "/extend 编号 日期 理由：申请延期，由督办部门批准"),
    "dispute": ("提出异议：/dispute 编号 理由", "/dispute 编号 理由：对分派提出异议"),
    "objection": ("异议申诉：/objection 编号 理由", "/objection 编号 理由：对失信记录提出异议申诉"),
    "repair": ("信用修复：/repair 编号 说明", "/repair 编号 整改证据说明：申请信用修复"),
    "register": ("登记承诺台账：/register …", "/register 部门 | 期限 | 内容 | 来源 | 金额 | 公开：登记政府承诺"),
    "fulfilled": ("报告兑现：/fulfilled 承诺编号 说明", "/fulfilled 承诺编号 兑现情况：报告承诺已兑现"),
    "amend": ("变更承诺：/amend 承诺编号 字段 新值 / 理由", "/amend 承诺编号 字段 新值 / 理由：申请变更承诺"),
    "cases": ("案件列表：/cases [筛选]", "/cases [状态] [领域] [部门] [逾期] [时间段]：筛选案件，如 /cases 待分派 债务 上个月"),
    "find": ("搜索案件：/find 关键词", "/find 关键词：按内容、编号或部门名称搜索案件"),
    "assign": ("分派：/assign 编号 部门", "/assign 编号 部门：分派案件（部门可写代码、全称或简称）"),
    "domain": ("更正领域：/domain 编号 领域", "/domain 编号 领域：更正案件领域（用于改进分类）"),
    "invite": ("邀请：/invite 部门 [head]", "/invite 部门 [head]：承办人邀请码；/invite supervisor [区域]：邀请督办"),
    "officials": ("部门承办人：/officials 部门", "/officials 部门：查看该部门承办人"),
    "accesslog": ("权限变更记录", "/accesslog：最近的邀请码、绑定与解除绑定记录"),
    "unbind": ("解除绑定：/unbind 用户ID", "/unbind 用户ID：解除承办人或督办人员的绑定"),
    "verify": ("核查办结：/verify 编号 属实|不属实", "/verify 编号 属实|不属实 [说明]：核查办结（属实记入政务失信记录）"),
    "reopen": ("退回重办：/reopen 编号 理由", "/reopen 编号 理由：退回承办部门重办"),
    "tolerate": ("容错纠错：/tolerate 编号 理由", "/tolerate 编号 理由：容错纠错，办结且不记失信"),
    "reject": ("不予受理：/reject 编号 理由", "/reject 编号 理由：不予受理（不属于受理范围、重复投诉）"),
    "broken": ("承诺未兑现：/broken 编号", "/broken 编号 [说明]：确认承诺未兑现，记入失信记录"),
    "kept": ("确认兑现：/kept 承诺编号", "/kept 承诺编号：确认台账承诺已兑现"),
    "overdue": ("逾期事项", "/overdue：逾期事项（按部门，工作日计）"),
    "stats": ("统计：/stats [时间段]", "/stats [时间段]：统计与存量增量（附图表）；时间段如 上个月、本季度、2026年11月、2026-11..2026-12"),
    "report": ("月度报表：/report [月份]", "/report [月份]：月度排查报表（Excel）；月份如 上个月、2026年11月、11月"),
    "score": ("诚信评价：/score [部门]", "/score [部门] [时间段]：政务诚信评价得分；/score formula 查看计分办法"),
    "privacy": ("隐私说明", "/privacy：我们保存什么、谁能看到、保存多久"),
    "mydata": ("导出我的数据", "/mydata：导出我们保存的您的全部信息"),
    "forgetme": ("删除我的身份信息", "/forgetme：从已办结的投诉中删除您的身份信息"),
    "web": ("网页工作台登录", "/web：获取网页版工作台的一次性登录链接"),
}
HELP_HEADERS = {
    "citizen": "<b>如何使用</b>",
    "official": "<b>承办人命令</b>（编号如 YC-20261127-0042）",
    "supervisor": "<b>督办命令</b>（编号如 YC-20261127-0042）",
}
HELP_FOOTERS = {
    "citizen": "您的身份信息只有督办部门可见，不会告诉被投诉的部门。",
    "official": "案件分派给您的部门时，您会收到通知，点“受理”或“有异议”。",
    "supervisor": "同时也可以像群众一样投诉和查询。",
}
HELP_LINE = "• {line}"

# --- the complaint conversation -------------------------------------------------------------

ASK_TEXT = (
    "请用文字描述您要反映的问题：哪个部门（或街道、乡镇）、什么时间、做了什么或没做什么、"
    f"给您造成了什么影响。\n\n字数 {MIN_TEXT}–{MAX_TEXT} 字。随时发送 /cancel 可放弃。"
)
TEXT_TOO_SHORT = f"描述太短了（至少 {MIN_TEXT} 个字），请把事情经过说得具体一些。"
TEXT_TOO_LONG = "描述太长了（{length} 字，上限 {MAX_TEXT} 字）。请精简后重新发送，详细材料可以在后面作为文件上传。"
SHORT_MESSAGE_HINT = (
    "您好！如需反映政务失信问题，请点“我要投诉”或直接发送不少于 "
    f"{MIN_TEXT} 个字的描述。发送 /help 查看全部功能。"
)
TEXT_ONLY = "这里需要文字描述，暂时无法识别贴纸、语音、位置等内容。请用文字输入。"
EVIDENCE_ONLY = "这一步请发送照片或文件（如合同、验收单、判决书），或点“完成”“跳过”。"
MEDIA_WITHOUT_CONVERSATION = "如需为已提交的投诉补充证据，请先发送 /supplement 编号，再发送照片或文件。"
UNSUPPORTED = "抱歉，我只能处理文字、照片和文件。发送 /help 查看使用方法。"
EDIT_IGNORED = "已提交的内容不能通过编辑消息修改。如需补充，请使用 /supplement 编号。"
BUTTON_ONLY = "请点击上面消息里的按钮继续，或发送 /cancel 放弃。"

CLASSIFIED = (
    "我理解您反映的是：<b>{label}</b>领域的问题（把握度 {confidence:.0%}）。\n"
    "判断依据：{terms}\n\n请确认，或点选正确的领域："
)
CLASSIFIED_UNSURE = "我不太确定您反映的问题属于哪个领域{terms_hint}。请点选最接近的一项："
CLASSIFIED_OTHER = (
    "您反映的情况看起来<b>不属于政务失信</b>（例如噪音、道路、物业、私营企业欠薪、消费纠纷等）。\n"
    "这类问题请拨打 <b>12345</b> 政务服务便民热线，或向相关主管部门反映，处理会更快。\n\n"
    "如果您认为这确实涉及政府部门或公职人员失信，请点选对应领域，或点“仍按“其他”提交”。"
)
NO_TERMS = "（未找到明显的关键词）"

ASK_DEPARTMENT = "您反映的是哪个部门？我从描述中识别到："
ASK_DEPARTMENT_NONE = "没有从描述中识别出具体部门。请直接输入部门名称（例如“亭湖区住建局”“文峰街道”），或点“不清楚”。"
ASK_DEPARTMENT_TYPE = "请直接输入部门名称，例如“市财政局”“盐都区住建局”“文峰街道”。"
DEPARTMENT_SEARCH_RESULTS = "找到以下部门，请点选："
DEPARTMENT_SEARCH_EMPTY = "没有找到“{query}”。请换个说法（例如“市财政局”“亭湖区住建局”），或点“不清楚”。"

ASK_EVIDENCE = (
    "如有证据，请发送照片或文件（合同、验收单、聊天截图、判决书等），可以发送多份，每份可附说明。\n"
    "发送完毕请点“完成”，没有证据请点“跳过”。"
)
EVIDENCE_RECEIVED = "已收到第 {count} 份证据。还可以继续发送，发送完毕请点“完成”。"
EVIDENCE_LIMIT = "每件投诉最多附 {limit} 份证据，已达上限。请点“完成”继续。"

ASK_CONTACT = (
    "是否同意承办部门在需要时通过本平台与您联系、核实情况？\n\n"
    "无论是否同意，<b>您的姓名、账号等身份信息都不会向被投诉的部门公开</b>，"
    "他们只能看到案件编号和去除了手机号、身份证号等个人信息的投诉内容。"
)

SUMMARY = (
    "<b>请确认投诉内容</b>\n\n"
    "领域：{domain}\n"
    "部门：{department}\n"
    "证据：{evidence} 份\n"
    "同意联系核实：{contact}\n\n"
    "内容：\n{text}\n\n"
    "{details}"
    "确认无误请点“确认提交”。"
)
DEPARTMENT_UNKNOWN = "不清楚（由督办部门确定）"
YES, NO = "是", "否"

CASE_OPENED = (
    "✅ <b>已立案</b>，编号 <code>{ref}</code>。\n\n"
    "我们会把您的投诉转交承办部门办理，每一步进展都会通知您。"
    "随时可以发送 /status {ref} 查看进度。"
)
CANCELLED = "已取消，没有提交任何内容。需要时请随时点“我要投诉”。"
NOTHING_TO_CANCEL = "当前没有正在填写的内容。"
RESUME = "您有一份未完成的投诉，我们从上次停下的地方继续："
UNFINISHED_DRAFT = "您有一份未完成的投诉，点“我要投诉”可以从上次停下的地方继续，发送 /cancel 可以放弃。"
STALE_BUTTON = "这个按钮已失效（对应的操作已完成或已过期）。请按最新的消息操作。"
ALREADY_SUBMITTED = "这份投诉已经提交过了，不会重复立案。发送 /mycases 可以查看。"
RATE_LIMITED = "您今天已提交 {limit} 件投诉，达到每日上限。请明天再提交；如情况紧急，可拨打 12345。"
FLOODING = "您发送消息过于频繁，请稍等一分钟再试。"

DRAFT_NUDGE = "您有一份投诉还没有提交。回到对话即可从上次停下的地方继续，或发送 /cancel 放弃。"
DRAFT_EXPIRED = "您 {days} 天前开始填写的投诉一直未提交，已自动清除。需要时请重新点“我要投诉”。"

# --- a citizen's cases -------------------------------------------------------------------------

MY_CASES_HEADER = "<b>我的投诉</b>（共 {total} 件，第 {page}/{pages} 页）\n"
MY_CASES_EMPTY = "您还没有提交过投诉。点“我要投诉”即可开始。"
CASE_LINE = "<code>{ref}</code> · {status} · {domain} · {date}"
ASK_REF = "请发送要查询的投诉编号，例如 <code>/status YC-20261127-0042</code>。"
ASK_REF_RECENT = "您最近的投诉（点击查看）："
USAGE_STATUS = "用法：/status 编号，例如 <code>/status YC-20261127-0042</code>。"
USAGE_SUPPLEMENT = "用法：/supplement 编号 [补充内容]，例如 <code>/supplement YC-20261127-0042 对方又推迟了付款</code>。"
USAGE_WITHDRAW = "用法：/withdraw 编号，例如 <code>/withdraw YC-20261127-0042</code>。"
BAD_REF = "“{ref}”不是有效的投诉编号。编号的格式类似 <code>YC-20261127-0042</code>。"
CASE_NOT_FOUND = "没有找到编号为 {ref} 的投诉，或您无权查看。请核对编号。"
# Where to look next, in the words of the refused person's role (appended to "not found" refusals).
REFUSAL_ADVICE = {
    "citizen": "（可发送 /mycases 查看自己的投诉）",
    "official": "（可发送 /tasks 查看本部门的待办案件）",
    "supervisor": "（可发送 /cases 或 /find 关键词 查找案件）",
}
PRIVATE_ONLY_BUTTON = "为保护隐私，请在与机器人的私聊中操作（私聊发送 /start）。"


REPLIES_BLOCK = "<b>承办部门答复</b>\n{items}"
REPLY_LINE = "{time} {label}：{text}"
REPLY_KIND_LABELS = {"reply": "答复", "rectification": "整改情况"}
CO_COMPLAINANT_WITHDRAWN = (
    "您联名的投诉 <code>{ref}</code> 已由最初的投诉人撤回，案件不再办理。"
    "如问题仍未解决，您可以重新投诉。"
)

CASE_STATUS = (
    "<b>投诉 {ref}</b>\n"
    "状态：{status}\n"
    "领域：{domain}\n"
    "承办部门：{department}\n"
    "提交时间：{created}\n"
    "内容：{text}\n\n"
    "<b>办理经过</b>\n{timeline}"
)
TIMELINE_HEADING = "<b>办理经过</b>"
TIMELINE_LINE = "{time}  {label}"
NO_DEPARTMENT = "待分派"

SUPPLEMENT_ASK = (
    "请发送要补充的文字说明，或照片、文件。可以发送多条，发送完毕请点“补充完毕”。\n投诉编号：<code>{ref}</code>"
)
SUPPLEMENT_SAVED = "已补充到投诉 <code>{ref}</code>，承办部门和督办部门都能看到。"
EVIDENCE_ADDED = "证据已补充到投诉 <code>{ref}</code>。"
SUPPLEMENT_DONE = "补充完毕，谢谢。发送 /status {ref} 可查看进度。"
CASE_CLOSED_FOR_CHANGE = "投诉 {ref} 已{status}，不能再补充或撤回。"
WITHDRAW_ASK = "确定要撤回投诉 <code>{ref}</code> 吗？撤回后将停止办理。"
WITHDRAWN = "投诉 <code>{ref}</code> 已撤回。"
WITHDRAW_KEPT = "好的，投诉 <code>{ref}</code> 继续办理。"

# --- supervisors ------------------------------------------------------------------------------

UNKNOWN_COMMAND = "没有这个命令。发送 /help 查看可用的命令。"
FORBIDDEN = "抱歉，您没有权限使用这个功能。"
USAGE_CASE = "用法：/case 编号，例如 <code>/case YC-20261127-0042</code>。"
USAGE_ASSIGN = "用法：/assign 编号 部门，例如 <code>/assign YC-20261127-0042 市财政局</code>（部门可写代码、全称或简称）。"
UNKNOWN_STATUS = "没有“{status}”这种状态。可选：{choices}。"
CASES_HEADER = "<b>案件列表</b>{status}（共 {total} 件，第 {page}/{pages} 页）\n"
CASES_EMPTY = "没有符合条件的案件。"
CASE_DETAIL = (
    "<b>案件 {ref}</b>\n"
    "状态：{status}\n"
    "领域：{domain}（系统判断：{suggested}，把握度 {confidence:.0%}；依据：{terms}）\n"
    "承办部门：{department}\n"
    "投诉人：{complainant}（同意联系核实：{contact}）\n"
    "提交时间：{created}\n"
    "证据：{evidence} 份\n\n"
    "<b>原文</b>\n{text}\n\n"
    "{details}"
    "{supplements}"
    "\n<b>记录</b>\n{timeline}"
)
SUPPLEMENTS_BLOCK = "\n<b>补充说明</b>\n{items}\n"
DEPARTMENT_NOT_FOUND = "没有找到部门“{query}”。请写部门代码、全称或常用简称，例如“市财政局”。"
DEPARTMENT_AMBIGUOUS = "“{query}”对应多个部门，请点选："
ASSIGNED = "投诉 <code>{ref}</code> 已分派至 <b>{department}</b>。"
CITIZEN_ASSIGNED = "您的投诉 <code>{ref}</code> 已转交 <b>{department}</b> 办理。"
BAD_TRANSITION = "投诉 {ref} 当前状态为“{status}”，不能进行这个操作。"
NO_EVIDENCE = "这件投诉没有附证据。"

ERROR_GENERIC = "抱歉，系统暂时出了点问题，刚才的操作没有完成，请稍后再试。已经提示“已保存”“已立案”的内容不会丢失。"


def domain_label(code: str) -> str:
    return DOMAIN_LABELS.get(code, code)


def status_label(code: str) -> str:
    return STATUS_LABELS.get(code, code)


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


def local_date(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d}"


def terms_list(terms: list[str]) -> str:
    """The words that decided a domain, as a reader wants them: 拖欠 once, not 拖欠、拖、欠."""
    shown = [t for t in dict.fromkeys(terms) if not any(t != other and t in other for other in terms)]
    return "、".join(esc(t) for t in shown[:8]) if shown else NO_TERMS


def excerpt(text: str, limit: int = 600) -> str:
    """User text, escaped and cut to fit a chat message."""
    return esc(text if len(text) <= limit else text[:limit] + "…")


def plain(html_text: str) -> str:
    """Callback alerts are plain text and at most 200 characters."""
    return re.sub(r"<[^>]+>", "", html_text)[:200]


# --- officials and the case lifecycle ---------------------------------------------------------

ACTION_LABELS.update({
    "tolerate": "容错纠错，办结",
    "reply": "承办部门答复",
    "commit_proposed": "承办部门提出承诺",
    "commit_approved": "督办部门批准承诺",
    "commit_returned": "督办部门退回承诺",
    "commit_broken": "承诺未兑现",
    "extension_requested": "承办部门申请延期",
    "extension_approved": "督办部门同意延期",
    "extension_denied": "督办部门不同意延期",
    "rated": "投诉人评价",
    "objection": "承办部门提出异议申诉",
    "objection_upheld": "异议申诉成立，撤销失信记录",
    "objection_rejected": "异议申诉不成立",
    "repair": "承办部门申请信用修复",
    "repair_approved": "信用修复通过",
    "repair_rejected": "信用修复未通过",
})

CLOCK_LABELS = {
    "assign": "分派",
    "accept": "受理",
    "reply": "答复",
    "commitment": "兑现承诺",
    "rectification": "整改",
    "follow_up": "回访",
}
OUTCOME_LABELS = {
    "substantiated": "投诉属实",
    "unsubstantiated": "投诉不属实",
    "tolerated": "容错纠错",
    "rejected": "不予受理",
}
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
DISPUTE_REASONS = {"remit": "不属于本部门职责", "duplicate": "重复投诉", "other": "其他原因"}

BTN_ACCEPT = "受理"
BTN_DISPUTE = "有异议"
BTN_APPROVE = "批准"
BTN_RETURN = "退回"
BTN_GRANT = "同意延期"
BTN_DENY = "不同意"
BTN_INSIST = "坚持分派"
BTN_UPHOLD = "异议成立"
BTN_OVERRULE = "异议不成立"
BTN_REPAIR_OK = "同意修复"
BTN_REPAIR_NO = "不同意修复"
BTN_UNBIND = "解除绑定"
BTN_EVIDENCE_FINISHED = "证据发送完毕"

USAGE_INVITE = "用法：/invite 部门 [head]，例如 <code>/invite 市财政局</code>；邀请督办：<code>/invite supervisor [区域]</code>，例如 <code>/invite supervisor 亭湖区</code>（不写区域即全市）。"
INVITE_CREATED = (
    "邀请码已生成：<code>{code}</code>\n"
    "部门：{department}{head}\n有效期至 {expires}，只能使用一次。\n"
    "请把邀请码当面或通过内部渠道交给承办人，由其私聊本机器人发送 <code>/bind {code}</code>。"
)
INVITE_SUPERVISOR_CREATED = (
    "督办邀请码已生成：<code>{code}</code>{region}\n有效期至 {expires}，只能使用一次。对方发送 <code>/bind {code}</code> 即可。"
)
HEAD_MARK = "（部门负责人）"
USAGE_BIND = "用法：/bind 邀请码，例如 <code>/bind K7M2P-Q9RTX</code>。邀请码由督办部门提供。"
BOUND_OFFICIAL = "绑定成功！您现在是 <b>{department}</b> 的承办人{head}。发送 /help 查看承办人命令，/tasks 查看待办。"
BOUND_SUPERVISOR = "绑定成功！您现在是督办人员。发送 /help 查看督办命令。"
INVITE_WRONG = "邀请码不正确，请核对后重试（注意区分字母和数字）。"
INVITE_USED = "这个邀请码已经被使用过了。请向督办部门申请新的邀请码。"
INVITE_EXPIRED = "这个邀请码已过期（有效期 72 小时）。请向督办部门申请新的邀请码。"
BIND_LOCKED = "邀请码错误次数过多，请一小时后再试。"
USAGE_OFFICIALS = "用法：/officials 部门，例如 <code>/officials 市财政局</code>。"
OFFICIALS_HEADER = "<b>{department}</b> 的承办人（{count} 人）："
OFFICIALS_EMPTY = "<b>{department}</b> 还没有绑定承办人。可用 /invite 生成邀请码。"
OFFICIAL_LINE = "{name}{head} · ID {telegram_id}"
USAGE_UNBIND = "用法：/unbind 用户ID，例如 <code>/unbind 123456789</code>（用户ID见 /officials 列表）。"
UNBOUND = "已解除 {name} 的承办人绑定。"
UNBOUND_NOTICE = "您的承办人身份已被督办部门解除。如有疑问请联系督办部门。"

NEW_ASSIGNMENT = (
    "📋 <b>新分派案件 {ref}</b>\n"
    "领域：{domain}\n"
    "受理期限：{due}\n"
    "证据：{evidence} 份\n\n"
    "{text}\n\n"
    "请在期限内点“受理”，如不属于本部门职责请点“有异议”。"
)
ACCEPTED = "已受理案件 <code>{ref}</code>。请在 {due} 前答复投诉人：<code>/reply {ref} 答复内容</code>。"
ACCEPTED_BY_OTHER = "案件 {ref} 已由同事受理。"
CITIZEN_ACCEPTED = "您的投诉 <code>{ref}</code> 已被承办部门受理，正在办理。"
ASK_DISPUTE_REASON = "请选择异议理由（也可发送 /dispute {ref} 具体理由）："
DISPUTED = "已提出异议，案件 <code>{ref}</code> 退回督办部门重新研究。"
SUPERVISOR_DISPUTE = (
    "⚠️ 案件 <code>{ref}</code> 被 <b>{department}</b> 提出异议：{reason}\n"
    "请用 <code>/assign {ref} 部门</code> 重新分派，或点“坚持分派”。"
)
USAGE_ACCEPT = "用法：/accept 编号，例如 <code>/accept YC-20261127-0042</code>（受理分派给本部门的案件）。"
USAGE_DISPUTE = "用法：/dispute 编号 理由，例如 <code>/dispute YC-20261127-0042 该项目由区财政局负责</code>。"
USAGE_REPLY = "用法：/reply 编号 答复内容，例如 <code>/reply YC-20261127-0042 已核实，本月底前支付</code>。"
REPLY_SENT = "答复已转达投诉人（案件 <code>{ref}</code>）。"
REPLY_TOO_LONG = "答复太长了（{length} 字，上限 {limit} 字）。请精简，或分两次发送。"
CITIZEN_REPLY = "💬 承办部门就您的投诉 <code>{ref}</code> 答复如下：\n\n{text}"
USAGE_COMMIT = (
    "用法：/commit 编号 日期 承诺内容，例如 <code>/commit YC-20261127-0042 2026年12月31日前 支付全部货款</code>。\n"
    "日期可写 2026-12-31、12月31日前、30个工作日内、下周五。"
)
COMMIT_PROPOSED = "承诺已提交督办部门审核：{due} 前 {content}。"
SUPERVISOR_COMMIT = "📝 <b>{department}</b> 就案件 <code>{ref}</code> 提出承诺：\n{due} 前 {content}\n请审核："
COMMIT_APPROVED_OFFICIAL = "督办部门已批准案件 <code>{ref}</code> 的承诺，期限 {due}。"
COMMIT_RETURNED_OFFICIAL = "督办部门退回了案件 <code>{ref}</code> 的承诺，请修改后重新提交（/commit）。"
CITIZEN_COMMITMENT = "🤝 承办部门就您的投诉 <code>{ref}</code> 作出承诺：{due} 前 {content}。到期我们会跟进。"
COMMIT_DECIDED = "已{decision}。"
USAGE_RECTIFIED = "用法：/rectified 编号 整改情况，例如 <code>/rectified YC-20261127-0042 货款已于12月20日全部支付</code>。"
RECTIFIED = (
    "已报告整改完成，案件 <code>{ref}</code> 等待督办部门核查。\n"
    "如有整改证据（付款凭证、照片等），现在可以直接发送，发送完毕请点“证据发送完毕”。"
)
CITIZEN_RECTIFIED = "🛠 承办部门报告已对您的投诉 <code>{ref}</code> 完成整改：\n\n{text}\n\n督办部门核查后会通知您结果。"
SUPERVISOR_RECTIFIED = "🔎 案件 <code>{ref}</code>（{department}）报告整改完成，请核查：<code>/verify {ref} 属实</code> 或 <code>/reopen {ref} 理由</code>。"
RECTIFY_EVIDENCE_ADDED = "整改证据已附到案件 <code>{ref}</code>。"
RECTIFY_EVIDENCE_DONE = "整改证据已发送完毕。"
USAGE_EXTEND = "用法：/extend 编号 日期 理由，例如 <code>/extend YC-20261127-0042 2027年1月15日 需要走财政审批流程</code>。"
EXTENSION_REQUESTED = "延期申请已提交督办部门：{kind}期限申请延至 {due}。"
SUPERVISOR_EXTENSION = "⏳ <b>{department}</b> 申请将案件 <code>{ref}</code> 的{kind}期限由 {current} 延至 {due}。\n理由：{reason}"
EXTENSION_GRANTED = "督办部门同意案件 <code>{ref}</code> 延期至 {due}。"
EXTENSION_DENIED = "督办部门不同意案件 <code>{ref}</code> 延期，请按原期限办理。"
EXTENSION_NOT_LATER = "申请的日期必须晚于当前期限（{current}）。"
NO_OPEN_CLOCK = "案件 {ref} 目前没有需要延期的期限。"
DATE_PROBLEMS = {
    "date_unreadable": "没看懂日期“{text}”。请写成 2026年12月31日、2026-12-31、12月31日前、30个工作日内或下周五。",
    "date_past": "日期“{text}”已经过去了，请填写今天或以后的日期。",
    "date_ambiguous": "日期“{text}”不明确（可能指今年或明年），请写上年份，例如 {example}。",
    "date_too_far": "日期“{text}”太远了，请填写三年以内的日期。",
}

USAGE_VERIFY = "用法：/verify 编号 属实|不属实 [说明]，例如 <code>/verify YC-20261127-0042 属实 已核实拖欠事实</code>。"
VERIFIED = "案件 <code>{ref}</code> 已办结：{outcome}。{record}"
RECORD_CREATED = "已记入 {department} 的政务失信记录。"
CITIZEN_CLOSED = "✅ 您的投诉 <code>{ref}</code> 已办结：{outcome}。{note}\n感谢您对政务诚信建设的监督。"
OFFICIAL_CLOSED = "案件 <code>{ref}</code> 已由督办部门办结：{outcome}。{record}"
OFFICIAL_RECORD_NOTICE = "该案件已记入本部门政务失信记录。如有异议可 /objection {ref} 理由；整改后可 /repair {ref} 证据说明。"
USAGE_REOPEN = "用法：/reopen 编号 理由，例如 <code>/reopen YC-20261127-0042 付款凭证与合同金额不符</code>。"
REOPENED = "案件 <code>{ref}</code> 已退回 {department} 重新办理。"
OFFICIAL_REOPENED = "⚠️ 案件 <code>{ref}</code> 被退回重新办理：{reason}\n请在 {due} 前完成整改。"
CITIZEN_REOPENED = "您的投诉 <code>{ref}</code> 已退回承办部门重新办理。"
USAGE_TOLERATE = "用法：/tolerate 编号 理由，例如 <code>/tolerate YC-20261127-0042 已主动纠正并挽回损失</code>。"
TOLERATED = "案件 <code>{ref}</code> 已按容错纠错办结，不记失信记录。"
USAGE_REJECT = "用法：/reject 编号 理由，例如 <code>/reject YC-20261127-0042 与 YC-20261126-0007 重复</code>。"
REJECTED = "案件 <code>{ref}</code> 已不予受理。"
CITIZEN_REJECTED = "您的投诉 <code>{ref}</code> 不予受理：{reason}\n如有疑问，可拨打 12345 咨询。"
USAGE_BROKEN = "用法：/broken 编号 [说明]，例如 <code>/broken YC-20261127-0042 到期未支付</code>。"
NO_APPROVED_COMMITMENT = "案件 {ref} 没有已批准、待兑现的承诺。"
BROKEN_RECORDED = "已确认案件 <code>{ref}</code> 的承诺未兑现，记入 {department} 的政务失信记录。"

USAGE_OBJECTION = "用法：/objection 编号 理由，例如 <code>/objection YC-20261127-0042 款项已于判决前支付</code>。"
USAGE_REPAIR = "用法：/repair 编号 整改证据说明，例如 <code>/repair YC-20261127-0042 已全额支付并公开致歉</code>。"
NO_RECORD = "案件 {ref} 没有本部门的失信记录。"
RECORD_STATE = "这条失信记录当前为“{status}”，不能进行这个操作。"
RECORD_STATUS_LABELS = {
    "active": "有效", "objection_pending": "异议审核中", "revoked": "已撤销", "repair_pending": "修复审核中",
    "repaired": "已修复",
}
OBJECTION_FILED = "异议申诉已提交督办部门。"
REPAIR_FILED = "信用修复申请已提交督办部门。"
SUPERVISOR_OBJECTION = "📨 <b>{department}</b> 对案件 <code>{ref}</code> 的失信记录提出异议申诉：{reason}"
SUPERVISOR_REPAIR = "📨 <b>{department}</b> 就案件 <code>{ref}</code> 的失信记录申请信用修复：{evidence}"
OBJECTION_DECIDED = "案件 <code>{ref}</code> 的失信记录异议申诉：{decision}。"
REPAIR_DECIDED = "案件 <code>{ref}</code> 的失信记录信用修复：{decision}。"

TASKS_HEADER = "<b>{department} 待办</b>（{count} 件，按期限排序）"
TASKS_EMPTY = "{department} 目前没有待办案件。"
TASK_LINE = "<code>{ref}</code> · {status} · {clock}截止 {due}（{left}）"
TASK_LINE_NO_CLOCK = "<code>{ref}</code> · {status}"
DAYS_LEFT = "剩 {n} 个工作日"
DUE_TODAY = "今天到期"
DAYS_OVERDUE = "已逾期 {n} 个工作日"


def days_left(n: int) -> str:
    """The one wording of `bot.domain.ladder.working_days_left`: days left, due today, or days overdue."""
    if n > 0:
        return DAYS_LEFT.format(n=n)
    if n == 0:
        return DUE_TODAY
    return DAYS_OVERDUE.format(n=-n)

NOT_OFFICIAL = "这个命令仅供承办人使用。承办人请先用督办部门提供的邀请码 /bind 绑定。"

OFFICIAL_CASE_DETAIL = (
    "<b>案件 {ref}</b>\n"
    "状态：{status}\n"
    "领域：{domain}\n"
    "期限：{clocks}\n"
    "证据：{evidence} 份\n\n"
    "<b>投诉内容</b>（已隐去个人信息）\n{text}\n"
    "{supplements}"
    "\n<b>记录</b>\n{timeline}"
)
CLOCK_LINE = "{kind} {due}（{left}）"
NO_CLOCKS = "无"

FOLLOW_UP_ASK = "您的投诉 <code>{ref}</code> 已于 {closed} 办结（{outcome}）。您对办理结果满意吗？"
RATED = "感谢您的评价！"
ASK_UNSATISFIED_REASON = "很抱歉让您不满意。请用文字说明不满意的原因（{days} 天内），我们将退回承办部门重新办理。"
UNSATISFIED_REOPENED = "已收到。您的投诉 <code>{ref}</code> 已退回承办部门重新办理（重办）。"
REOPEN_WINDOW_PASSED = "已超过 {days} 天的重办期限，您的意见已记录，但案件不再重办。如有新情况，请重新投诉。"
OFFICIAL_UNSATISFIED = "⚠️ 投诉人对案件 <code>{ref}</code> 的办理结果不满意，案件已重办：{reason}\n请在 {due} 前完成整改。"


# --- reminders, digests and escalation ---------------------------------------------------------

REMINDER_HEADER = "⏰ <b>办理提醒</b>（{count} 项）"
REMINDER_CATCH_UP = "⏰ <b>办理提醒</b>（{count} 项，含系统恢复后补发的提醒）"
REMINDER_LINE = "• <code>{ref}</code> {kind}：截止 {due}（{left}）"
ESCALATION_HEAD_HEADER = "⚠️ <b>部门督办</b>：本部门以下事项已逾期，请督促办理（{count} 项）"
ESCALATION_SUPERVISORS_HEADER = "🚨 <b>逾期督办</b>：以下事项逾期已久（{count} 项）"
ESCALATION_LINE = "• <code>{ref}</code> {department} {kind}：截止 {due}，{left}，此前已提醒 {sent} 次"
MORNING_HEADER = "🌅 <b>今日待办</b>：{department} 共 {count} 项，按紧迫程度排列"
MORNING_LINE = "• <code>{ref}</code> {kind}：截止 {due}（{left}）"
MORE_ITEMS = "……另有 {n} 项，发送 /tasks 查看全部。"
SUPERVISOR_DAILY_HEADER = "📊 <b>每日逾期清单</b>（{count} 项）"
SUPERVISOR_DAILY_LINE = "• {department} <code>{ref}</code> {kind}：{left}"
SUPERVISOR_DAILY_NONE = "📊 <b>每日逾期清单</b>：目前没有逾期事项。"
REMINDER_FOOTER = "发送 /case 编号 查看详情。"
BTN_OPEN_CASE = "查看 {ref}"
UNREACHABLE_NOTICE = "⚠️ 承办人 {name}（{department}）已屏蔽本机器人，无法接收办理提醒。请督促其恢复或更换承办人。"
COMMITMENT_REF = "承诺#{id}"


# --- supervision (stats, reports, scores) ---
# Everything below belongs to /find, filtered /cases, /overdue, /stats, /report, /score, the supervisor's
# /case extras and the monthly review (按月排查). Appended as one block; nothing above is changed in place.

PERIOD_EXAMPLE = "例如 <code>2026-11</code>（月份）或 <code>2026-11-01..2026-11-30</code>（起止日期）"
# The forms bot.domain.periods.parse_period accepts (every command that takes a period).
MONTH_FORMS = "<code>本月</code>、<code>上月</code>（<code>上个月</code>）、<code>2026-11</code>、<code>2026年11月</code>、<code>11月</code>"
PERIOD_FORMS = (
    MONTH_FORMS + "、<code>本季度</code>、<code>上季度</code>、<code>今年</code>、<code>去年</code>、<code>2026</code>、"
    "<code>2026-11..2026-12</code>（连续几个月）、<code>2026-11-01..2026-11-30</code>（起止日期，最长一年）"
)
BAD_PERIOD = "无法识别时间段“{value}”。可以写：" + PERIOD_FORMS + "。"
BAD_MONTH = "无法识别月份“{value}”。月度报表按月生成，例如 <code>/report 2026-11</code>，可以写：" + MONTH_FORMS + "。"
UNKNOWN_SCORE_DEPARTMENT = (
    "没有找到部门“{query}”。请写部门代码、全称或常用简称，例如 <code>/score 市财政局</code>；"
    "不写部门则显示全部部门排名。"
)
OUT_OF_REGION = "部门“{query}”不在您负责的区域内。"
REGION_NOTE = "（区域：{region}）"

# /find and filtered /cases
USAGE_FIND = "用法：/find 关键词，例如 <code>/find 拖欠货款</code>、<code>/find YC-20261127</code>、<code>/find 财政局</code>。"
FIND_HEADER = "<b>搜索“{query}”</b>（共 {total} 件，第 {page}/{pages} 页，新案件在前）\n"
FIND_EMPTY = "没有找到与“{query}”相关的案件。可以换个关键词，或只写其中一部分。"
CASES_FILTER_HEADER = "<b>案件列表</b>{filters}（共 {total} 件，第 {page}/{pages} 页）\n"
CASES_BAD_FILTER = (
    "没有“{status}”这种状态，也不是领域、部门或时间段。\n"
    "用法：/cases [状态] [领域] [部门] [逾期] [时间段] [页码]，顺序不限，例如 "
    "<code>/cases 办理中 采购 市财政局 逾期 上个月</code>。\n"
    "状态可写：{statuses}；\n领域可写：{domains}；\n"
    "部门写全称或简称（如 <code>市财政局</code>、<code>盐都区住建局</code>，也可写 <code>dept=部门</code>）；逾期写 <code>逾期</code>；\n"
    "时间段可写：{periods}。"
)
CASES_FILTER_DEPT_NOT_FOUND = "没有找到部门“{query}”。例如 <code>/cases dept=市财政局</code>（可写代码、全称或常用简称）。"
FILTER_OVERDUE = "有逾期期限"

# /overdue
OVERDUE_HEADER = "<b>逾期事项</b>{region}（截至 {now}，共 {count} 项，涉及 {departments} 个部门）"
OVERDUE_EMPTY = "目前没有逾期未办的事项{region}。"
OVERDUE_DEPT_LINE = "\n<b>{department}</b>：{count} 项，累计逾期 {days} 个工作日，最长 {max_days} 个工作日"
OVERDUE_ITEM_LINE = "  · <code>{ref}</code> {kind}截止 {due}，{late}"
OVERDUE_ITEM_MORE = "  · …另有 {n} 项"
OVERDUE_MORE = "\n…另有 {n} 个部门未列出。完整清单见 /report。"
OVERDUE_UNASSIGNED = "督办部门（待分派）"
OVERDUE_NO_REF = "（无案件）"
LATE_DAYS = "逾期 {n} 个工作日"
LATE_UNDER_ONE = "逾期不足 1 个工作日"

# /stats
STATS_HEADER = "<b>统计 {period}</b>{region}"
STATS_EMPTY = "{period}{region}没有任何案件数据（无新增、无办结、无存量），不生成图表。"
STATS_BACKLOG = (
    "\n<b>存量与增量</b>（清存量、防增量）\n"
    "期初在办：{open_at_start}\n"
    "本期新增：{new}（上期 {prev_new}，{new_change}）\n"
    "本期办结：{closed}（上期 {prev_closed}，{closed_change}）\n"
    "期末在办：{open_at_end}（上期末 {prev_open}，{open_change}）"
)
STATS_BY_DOMAIN = "\n<b>按领域</b>（本期新增）"
STATS_BY_DEPARTMENT = "\n<b>按部门</b>（本期新增，前 {n} 个）"
STATS_BY_STATUS = "\n<b>按状态</b>（本期新增案件的当前状态）"
STATS_LINE = "{label}：{n}"
STATS_NO_NEW = "（本期无新增）"
STATS_MORE_DEPARTMENTS = "…另有 {n} 个部门"
STATS_UNASSIGNED = "待分派"
CHANGE_UP = "↑{n}"
CHANGE_DOWN = "↓{n}"
CHANGE_SAME = "持平"
STATS_CHART_CAPTION = "近 6 个月各领域新增案件与月末在办案件{note}"
CHART_ASCII_NOTE = "（服务器未安装中文字体，图中领域以代码表示）"

# /report and the monthly review
REPORT_FILENAME = "政务诚信月报-{month}{suffix}.xlsx"
DEPARTMENT_REPORT_FILENAME = "政务诚信月报-{month}-{code}.xlsx"
REPORT_CAPTION = "{month} 月度排查报表{region}：汇总、各部门、逾期事项、失信记录、满意度。"
REPORT_EMPTY = "{month}{region}没有任何数据（无案件、无逾期、无失信记录），不生成报表。"
REPORT_TOO_LARGE = (
    "{month} 报表有 {size} MB，超过 Telegram 50 MB 的文件上限，改为发送摘要。"
    "完整报表请在服务器上运行 <code>chengxin report --month {month} --out 报表.xlsx</code>。\n{summary}"
)
REPORT_SUMMARY = "新增 {new} 件，办结 {closed} 件，期末在办 {open_at_end} 件；逾期事项 {overdue} 项；失信记录 {records} 条。"
MONTHLY_SUPERVISOR_INTRO = "📊 <b>{month} 月度排查</b>{region}\n{summary}"
MONTHLY_EMPTY = "📊 {month} 月度排查{region}：上月没有任何案件数据，无需排查。"
MONTHLY_HEAD_CAPTION = "📊 {department} {month} 月度排查报表，请查阅后点“已阅”。"
BTN_REPORT_READ = "已阅"
REPORT_READ_RECORDED = "已记录：{department} {month} 月度报表已阅。"
REPORT_READ_ALREADY = "您已确认阅读过这份报表。"

# /score
SCORE_RANKING_HEADER = "<b>政务诚信评价排名 {period}</b>{region}（满分 100，/score formula 查看计分办法）"
SCORE_RANKING_LINE = "{rank}. {department} {score}（{grade}）"
SCORE_RANKING_MORE = "…中间 {n} 个部门略，完整得分见 /report 的“各部门”表。"
SCORE_NO_ACTIVITY = "{period}{region}没有可评价的办理记录（无期限、无办结、无评价、无失信记录）。"
SCORE_INACTIVE_NOTE = "\n另有 {n} 个部门本期无办理记录，未参与排名。"
SCORE_DETAIL = (
    "<b>{department} 政务诚信评价 {period}</b>\n"
    "得分：<b>{score}</b>（{grade}）\n\n"
    "按时办结：{met} 项按时、{missed} 项逾期（按时率 {on_time}）→ 扣 {d_on_time}\n"
    "逾期：累计 {overdue_days} 个工作日 → 扣 {d_overdue}\n"
    "重办：办结 {closings} 次、重办 {reopens} 次（重办率 {reopen_rate}）→ 扣 {d_reopen}\n"
    "满意度：{rated} 个评价（满意 {satisfied}、基本满意 {basic}、不满意 {unsatisfied}，指数 {satisfaction}）→ 扣 {d_satisfaction}\n"
    "失信记录：计满额 {records_full} 条、已修复 {records_repaired} 条、已撤销 {records_revoked} 条 → 扣 {d_records}\n"
    "（无数据的项目不扣分；容错纠错的案件不产生失信记录。/score formula 查看计分办法）"
)
SCORE_NONE = "—"
NOT_RANKED = "不参与排名"
SCORE_NOT_RANKED_DETAIL = (
    "<b>{department} 政务诚信评价 {period}</b>\n"
    "得分：不参与排名（本期没有可评价的办理记录：无期限、无办结、无评价、无失信记录、无逾期）。\n"
    "有办理记录的部门才计分和排名；/score formula 查看计分办法。"
)
SCORE_RANK_LINE = "\n排名：第 {rank} 名（共 {ranked} 个部门参与排名）"
GRADE_LABELS = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}
SCORE_FORMULA = (
    "<b>政务诚信评价计分办法</b>（每个部门、每个统计期，满分 100，扣完为止）\n"
    "1. 按时办结：期内关闭的期限中按时完成的比例为按时率，扣 {on_time_weight:g} ×（1 − 按时率）\n"
    "2. 逾期：期内逾期关闭的期限（截止日至关闭日）与期末仍逾期未办的期限（截止日至期末）的工作日合计，"
    "每个工作日扣 {per_day:g} 分，最多扣 {overdue_cap:g} 分\n"
    "3. 重办：期内重办次数 ÷ 期内办结次数（核查办结、容错办结）为重办率，扣 {reopen_weight:g} × 重办率\n"
    "4. 满意度：满意计 {satisfied:g}、基本满意计 {basic:g}、不满意计 {unsatisfied:g}，平均为满意度指数，"
    "扣 {satisfaction_weight:g} ×（1 − 指数）\n"
    "5. 失信记录：期内产生的记录，有效、异议审核中、修复审核中的每条计 1，已修复的计 {repaired:g}，"
    "已撤销的不计；容错纠错不产生记录。每计 1 条扣 {record_points:g} 分，最多扣 {record_cap:g} 分\n"
    "没有数据的项目不扣分。等级：≥90 优秀，≥80 良好，≥60 合格，其余不合格。\n"
    "工作日按国家法定节假日和调休计算。详见 docs/scoring.md。"
)
USAGE_SCORE = "用法：/score [部门] [月份]，例如 <code>/score 市财政局 2026-11</code>；/score formula 查看计分办法。"

# The supervisor's /case: every clock, commitments, what can be done now
CASE_CLOCKS_BLOCK = "\n\n<b>期限</b>\n{lines}"
CASE_CLOCK_LINE = "{kind}：截止 {due} · {state}"
CASE_NO_CLOCKS = "（无）"
COMPLAINANT_NO_NAME = "（无姓名）"
CLOCK_STATE_LABELS = {
    "met": "按时完成", "missed": "逾期完成", "extended": "已延期（由新期限替代）", "cancelled": "已取消",
}
CLOCK_OPEN_LEFT = "进行中，剩 {n} 个工作日"
CLOCK_OPEN_TODAY = "进行中，今天到期"
CLOCK_OPEN_LATE = "⚠️ 已逾期 {n} 个工作日"
CLOCK_OPEN_LATE_UNDER_ONE = "⚠️ 已逾期（不足 1 个工作日）"
CASE_COMMITMENTS_BLOCK = "\n\n<b>承诺</b>\n{lines}"
CASE_COMMITMENT_LINE = "{due} 前：{content}（{status}）"
CASE_COMMITMENT_STATUS_LABELS = {
    "proposed": "待审核", "approved": "已批准", "returned": "已退回", "reported": "已报告兑现，待确认",
    "fulfilled": "已兑现", "broken": "未兑现",
}
CASE_RECORD_LINE = "\n<b>失信记录</b>：{status}"
CASE_ACTIONS_BLOCK = "\n\n<b>现在可以</b>\n{lines}"
CASE_ACTION_HINTS = {
    "assign": "/assign {ref} 部门 — 分派",
    "reject": "/reject {ref} 理由 — 不予受理",
    "verify": "/verify {ref} 属实|不属实 — 核查办结",
    "tolerate": "/tolerate {ref} 理由 — 容错纠错",
    "send_back": "/reopen {ref} 理由 — 退回重办",
    "reopen": "/reopen {ref} 理由 — 重新办理",
    "broken": "/broken {ref} — 确认承诺未兑现",
    "decide": "用下方按钮审批待决事项",
}
BTN_DECIDE_COMMITMENT = "承诺：{label}"
BTN_DECIDE_EXTENSION = "延期至 {due}：{label}"
BTN_DECIDE_OBJECTION = "异议：{label}"
BTN_DECIDE_REPAIR = "修复：{label}"

# Workbooks (sheet names are at most 31 characters)
SHEET_SUMMARY = "汇总"
SHEET_DEPARTMENTS = "各部门"
SHEET_OVERDUE = "逾期事项"
SHEET_RECORDS = "失信记录"
SHEET_SATISFACTION = "满意度"
SHEET_DEPARTMENT = "本部门"
WB_TITLE = "政务诚信月度排查 {month}"
WB_SCOPE = "范围"
WB_SCOPE_CITY = "全市"
WB_GENERATED = "生成时间"
WB_PERIOD = "统计期"
WB_BACKLOG_ROWS = ("期初在办", "本期新增", "本期办结", "期末在办", "上期新增", "上期办结", "上期末在办")
WB_BY_DOMAIN = "按领域（本期新增）"
WB_BY_STATUS = "按状态（本期新增案件的当前状态）"
WB_OVERDUE_TOTAL = "逾期事项（截至生成时）"
WB_RECORDS_TOTAL = "本期失信记录"
WB_DEPARTMENT_HEADERS = (
    "部门代码", "部门", "区域", "本期新增", "本期办结", "在办", "逾期事项", "反映拖欠金额（元）", "按时", "逾期完成", "按时率",
    "逾期工作日", "办结次数", "重办次数", "重办率", "评价数", "满意度指数", "失信记录（计满额）", "已修复记录",
    "扣分：按时", "扣分：逾期", "扣分：重办", "扣分：满意度", "扣分：失信", "得分", "等级", "排名",
)
WB_OVERDUE_HEADERS = ("部门代码", "部门", "案件编号", "期限", "截止日期", "逾期工作日")
WB_RECORD_HEADERS = ("记录编号", "案件编号", "部门代码", "部门", "领域", "状态", "记录时间", "摘要")
WB_SATISFACTION_HEADERS = ("部门代码", "部门", "满意", "基本满意", "不满意", "评价数", "满意度指数")
WB_TOTAL = "合计"

# Charts: Chinese when a CJK font is available, else ASCII with domain codes
CHART_TITLE_DOMAINS = ("各领域新增案件（按月）", "New cases by domain per month")
CHART_TITLE_BACKLOG = ("月末在办案件", "Open cases at month end")
# Characters kept in the shipped chart font besides the titles and domain labels (tools/subset_chart_font.py).
CHART_EXTRA_CHARACTERS = "年月日件数新增办结在办逾期合计（）：、，。·—～"


def change_text(now: int, before: int) -> str:
    delta = now - before
    if delta > 0:
        return CHANGE_UP.format(n=delta)
    if delta < 0:
        return CHANGE_DOWN.format(n=-delta)
    return CHANGE_SAME


def late_text(days: int) -> str:
    return LATE_DAYS.format(n=days) if days > 0 else LATE_UNDER_ONE


def percent(value: float | None) -> str:
    return SCORE_NONE if value is None else f"{value:.0%}"


# --- the commitment register (承诺台账) ------------------------------------------------------------

COMMITMENT_STATUS_LABELS = {
    "proposed": "待审核", "approved": "履行中", "returned": "已退回", "reported": "已报告兑现，待确认",
    "fulfilled": "已兑现", "broken": "未兑现（失信）",
}
BTN_REPORT_UNKEPT = "举报未兑现"
BTN_CONFIRM_KEPT = "确认践诺"
BTN_RECORD_BROKEN = "记为失信"
BTN_CHANGE_WITH_COMPENSATION = "批准（已决定补偿）"
BTN_CHANGE_NO_COMPENSATION = "批准（无需补偿）"
BTN_CHANGE_REJECT = "驳回"
USAGE_REGISTER = (
    "用法：/register 部门 | 期限 | 承诺内容 | 来源 | 金额 | 公开\n"
    "例如：<code>/register 亭湖区人民政府 | 2027年6月30日 | 兑现设备补贴500万元 | 亭湖区招商协议第5条 | 500万元 | 公开</code>\n"
    "来源、金额可留空；公开写“公开”或“不公开”（默认公开）。承办人登记时部门写本部门，经督办审核后生效。"
)
COMMITMENT_REGISTERED = "已登记承诺 <code>{ref}</code>：{department}，{due} 前 {content}。到期前会提醒承办部门。"
COMMITMENT_PROPOSED = "承诺 <code>{ref}</code> 已提交督办部门审核。"
SUPERVISOR_REGISTER_PROPOSED = "📝 <b>{department}</b> 申请登记承诺 <code>{ref}</code>：{due} 前 {content}\n来源：{source}"
COMMITMENT_DUPLICATE = "这项承诺已经登记过了：<code>{ref}</code>。没有重复登记，发送 /commitment {ref} 查看。"
COMMITMENT_NOT_FOUND = "没有找到承诺 {ref}，或您无权查看。编号格式类似 <code>CN-2026-0001</code>。"
COMMITMENTS_HEADER = "<b>承诺台账</b>{scope}（共 {total} 项，第 {page}/{pages} 页）"
COMMITMENTS_EMPTY = "没有符合条件的承诺。"
COMMITMENT_LINE = "<code>{ref}</code> · {department} · {due} 前 · {status}\n    {content}"
COMMITMENT_DETAIL = (
    "<b>承诺 {ref}</b>（第 {version} 版）\n"
    "部门：{department}\n"
    "内容：{content}\n"
    "期限：{due}\n"
    "金额：{amount}\n"
    "来源：{source}\n"
    "状态：{status}{public}\n"
    "{fulfilment}"
    "\n<b>版本记录</b>\n{history}"
)
NOT_PUBLIC = "（不公开）"
VERSION_LINE = "v{version} {when}：{due} 前 {content}{amount}（{state}{reason}{compensation}）"
VERSION_STATES = {"proposed": "待审批", "approved": "已批准", "rejected": "已驳回"}
COMPENSATION_LABELS = {"decided": "，已决定补偿", "none": "，无需补偿"}
FULFILMENT_LINE = "兑现情况：{note}\n"
USAGE_FULFILLED = "用法：/fulfilled 承诺编号 兑现情况，例如 <code>/fulfilled CN-2026-0001 补贴已于6月20日拨付</code>。"
FULFILMENT_REPORTED = "已报告承诺 <code>{ref}</code> 兑现，等待督办部门确认。"
SUPERVISOR_FULFILMENT = "✅ <b>{department}</b> 报告承诺 <code>{ref}</code> 已兑现：{note}"
USAGE_KEPT = "用法：/kept 承诺编号，例如 <code>/kept CN-2026-0001</code>。"
COMMITMENT_KEPT = "已确认承诺 <code>{ref}</code> 兑现（{timing}）。"
KEPT_ON_TIME, KEPT_LATE = "按期", "逾期"
COMMITMENT_BROKEN = "已记录承诺 <code>{ref}</code> 未兑现，记入 {department} 的政务失信记录。"
OFFICIAL_COMMITMENT_BROKEN = "承诺 <code>{ref}</code> 被认定未兑现，已记入本部门政务失信记录。如有异议请联系督办部门。"
USAGE_AMEND = (
    "用法：/amend 承诺编号 字段 新值 / 理由，字段为 日期、内容 或 金额。\n"
    "例如：<code>/amend CN-2026-0001 日期 2027年9月30日 / 设备进口延误，经协商顺延</code>"
)
AMEND_PROPOSED = "承诺 <code>{ref}</code> 的变更（第 {version} 版）已提交督办部门审批。变更须依法定程序，原承诺内容会保留在版本记录中。"
SUPERVISOR_AMEND = "✏️ 承诺 <code>{ref}</code>（{department}）申请变更{field}：{old} → {new}\n理由：{reason}\n如批准，请注明是否已决定补偿："
AMEND_DECIDED = "承诺 <code>{ref}</code> 的变更已{decision}。"
AMEND_APPROVED, AMEND_REJECTED = "批准", "驳回"
CHANGE_PENDING = "承诺 {ref} 已有一项变更在等待审批，请等待审批结果。"
CHANGE_FIELD = "不能变更“{field}”。可变更的字段：日期、内容、金额。"
CHANGE_REASON = "变更承诺必须说明理由（写在 / 之后）。"
COMMITMENT_STATE = "这项承诺当前为“{status}”，不能进行这个操作。"
AMOUNT_UNREADABLE = "金额“{text}”无法识别，请写成 500万元 或 5000000。"
DOMAIN_UNKNOWN = "领域“{domain}”不存在。"
RATE_HEADER = "<b>承诺兑现率</b> {start} 至 {end}（按到期日统计）"
RATE_LINE = "{department}：按期 {on_time}，逾期兑现 {late}，未兑现 {broken}，未到期/未办结 {open}，按期兑现率 {rate}"
RATE_EMPTY = "这段时间没有到期的承诺。"
REPORT_UNKEPT_ASK = (
    "您要举报承诺 <code>{ref}</code>（{department}：{content}）未兑现。\n"
    "请用文字描述您看到的情况（例如到期后仍未拨付、只兑现了一部分）。随时发送 /cancel 可放弃。"
)
COMMITMENT_TEXT_IN_CASE = "（举报承诺 {ref} 未兑现）"
AMOUNT_TOO_LARGE = "金额“{text}”超过了上限（10万亿元，即 10000000000000 元），请核对后重新填写。"

# The database could not be reached (outage, failover): nothing was saved, the user should retry.
DB_UNAVAILABLE = "抱歉，系统暂时无法保存，刚才的操作没有生效，请稍后重试。已经提示“已保存”“已立案”的内容不会丢失。"


# --- triage quality: duplicates, follow-up questions, corrections -------------------------------

BTN_JOIN_CASE = "加入该案件（联名投诉）"
NEW_OR_OLD = (
    "您有一份尚未提交的投诉（{excerpt}），刚才发来的像是一条新的投诉。\n"
    "请选择：继续填写原来的投诉，还是放弃原来的、改为提交这条新投诉？"
)
BTN_CONTINUE_OLD = "继续原来的投诉"
BTN_START_NEW = "放弃原来的，提交这条新投诉"
BTN_FILE_SEPARATELY = "仍然单独提交"
BTN_DETAIL_OK = "✅ 正确"
BTN_DETAIL_SKIP = "跳过"
DUPLICATE_FOUND = (
    "您反映的问题与已受理的投诉 <code>{ref}</code> 很相似（相似度 {similarity}）：\n"
    "被投诉部门：{department}，{date} 提交，目前{status}。\n\n"
    "您可以加入该案件作为联名投诉人，一起跟进办理结果；也可以单独提交。\n"
    "加入后：您会收到该案件的每一步进展，可用 /status 查看；您看到的是自己的描述，看不到原投诉人的内容和身份，"
    "原投诉人和承办部门也看不到您的身份。"
)
DUPLICATE_OWN = (
    "您在 {date} 已提交过相似的投诉 <code>{ref}</code>（{status}）。"
    "如有新情况，建议用 /supplement {ref} 补充；也可以单独提交新的投诉。"
)
JOINED_CASE = "已加入投诉 <code>{ref}</code>，成为联名投诉人。发送 /status {ref} 可随时查看办理进度。"
ALREADY_JOINED = "您已经是投诉 {ref} 的投诉人，无需重复加入。"
DETAIL_ASK = "补充信息（{n}/{total}）：请告诉我<b>{label}</b>{example}。不清楚可点“跳过”。"
DETAIL_CONFIRM = "补充信息（{n}/{total}）：我从描述中识别到<b>{label}</b>：{value}\n正确请点“正确”，否则请直接输入正确的内容。"
DETAIL_EXAMPLES = {"amount": "（例如 380万元）", "date": "（例如 2022年12月）", "case_number": "（例如 （2023）苏0902执1234号）",
                   "text": ""}
DETAIL_LINE = "{label}：{value}"
DETAILS_BLOCK = "<b>补充信息</b>\n{lines}\n\n"
DETAIL_AMOUNT = "没看懂金额“{text}”，请写成 380万元 或 3800000元。"
DETAIL_DATE = "没看懂时间“{text}”，请写成 2022年12月 或 2022-12-31。"
DETAIL_CASE_NUMBER = "没看懂案号“{text}”，案号格式类似 （2023）苏0902执1234号。"
DETAIL_EMPTY = "请输入{label}，或点“跳过”。"
RELATED_HEADER = "\n<b>相似案件</b>\n{lines}"
RELATED_LINE = "<code>{ref}</code> · {status} · 相似度 {similarity}"
SYSTEMIC_FLAG = "\n⚠️ <b>系统性失信预警</b>：{department}在“{domain}”领域有 {count} 名投诉人的案件正在办理。"
CO_COMPLAINANTS = "联名投诉人：{count} 人"
USAGE_DOMAIN = "用法：/domain 编号 领域，例如 <code>/domain YC-20261127-0042 debt</code> 或 <code>/domain YC-20261127-0042 地方政府债务</code>。"
DOMAIN_CHANGED = "案件 <code>{ref}</code> 的领域已改为 <b>{domain}</b>，此次更正已记录，用于改进自动分类。"

# --- supervision (door conversion) ---
CLOCK_OPEN_STATE = "进行中，{left}"
CLOCK_LATE_STATE = "⚠️ {left}"
UNKNOWN_REGION = "没有找到区域“{query}”。可用的区域：{known}。"
INVITE_OUT_OF_SCOPE = "您负责的区域是“{region}”，只能邀请本区域的督办人员，不能邀请全市或其他区域的督办人员。"
ACCOUNT_NOT_FOUND = "没有找到这位承办人或督办人员（或不在您的管理范围内）。请用 /officials 部门 查看用户ID。"
UNBOUND_SUPERVISOR = "已解除 {name} 的督办人员身份。"
UNBOUND_SUPERVISOR_NOTICE = "您的督办人员身份已被解除。如有疑问请联系督办部门。"
SUPERVISORS_HEADER = "由邀请码绑定、可由您解除的督办人员（{count} 人）："
SUPERVISOR_LINE = "{name}（区域：{region}） · ID {telegram_id}"
SUPERVISOR_CITY_WIDE = "全市"
SUPERVISORS_EMPTY = "没有可由您解除的督办人员（配置文件中指定的督办人员不能用 /unbind 解除）。"
SUPERVISOR_WORDS = ("supervisor", "supervisors", "督办")

# /accesslog: invitations, bindings and unbindings in the supervisor's scope, newest first.
ACCESS_LOG_HEADER = "<b>权限变更记录</b>{region}（最近 {count} 条，新的在前）："
ACCESS_LOG_EMPTY = "还没有权限变更记录{region}。"
ACCESS_LOG_MORE = "……另有 {n} 条未显示。"
ACCESS_LOG_ACTIONS = {"invite": "发出邀请码", "bind": "凭邀请码绑定", "unbind": "解除绑定"}
ACCESS_LOG_LINE = "{at} {action}：{what}{by}"
ACCESS_LOG_CHANGE = "{person}，{before} → {after}"
ACCESS_LOG_PERSON = "{name}（ID {telegram_id}）"
ACCESS_LOG_BY = "，操作人 {person}"
ACCESS_LOG_INVITED_BY = "，邀请人 {person}"
ACCESS_LOG_SYSTEM = "系统"
ACCESS_OFFICIAL = "承办人 · {department}{head}"
ACCESS_SUPERVISOR = "督办人员 · {region}"
ACCESS_CITIZEN = "群众"
ACCESS_UNKNOWN_DEPARTMENT = "（部门已不在名录中）"
DETAIL_AMOUNT_TOO_LARGE = "金额“{text}”超过了上限（10万亿元），请核对后重新输入，例如 380万元。"


# --- a citizen's own data (/privacy, /mydata, /forgetme) --------------------------------------------------

PRIVACY_NOTICE = (
    "<b>隐私说明</b>\n"
    "• 我们保存：您的 Telegram 账号信息（ID、名称、用户名）、您提交的投诉内容、补充材料、证据文件编号和办理记录。\n"
    "• 被投诉部门只能看到案件编号和去除了姓名、手机号、身份证号、银行卡号、邮箱等个人信息的内容，"
    "证据文件会改名后转交，<b>不会知道是谁投诉的</b>。只有督办部门在需要时可以看到您的身份。\n"
    "• 联名投诉人只能看到自己的描述和办理进展。\n"
    "• 案件办结 {years} 年后自动匿名化（保留去除个人信息的内容用于统计）。\n"
    "• /mydata 导出我们保存的您的全部信息；/forgetme 从已办结的案件中删除您的身份信息。"
)
ASK_TEXT_PRIVACY = "\n\n您的身份不会告诉被投诉部门，发送 /privacy 了解详情。"
MYDATA_SENT = "这是我们保存的您的全部信息（{cases} 件投诉，{joined} 件联名），格式为 JSON 文件。"
MYDATA_FILENAME = "我的数据.json"
FORGET_OPEN_CASES = (
    "您还有正在办理的投诉（{refs}），办理期间需要保留您的信息以便联系核实。"
    "案件办结后再发送 /forgetme；如需现在停止办理，可先用 /withdraw 编号 撤回。"
)
FORGET_ASK = (
    "确认删除吗？删除后，您已办结的投诉将不再与您的账号关联：内容只保留去除个人信息的版本（用于统计），"
    "证据文件名被删除，办理记录中会注明“已匿名化”。此操作不能撤销。"
)
BTN_FORGET_YES = "确认删除"
BTN_FORGET_NO = "取消"
FORGET_KEPT = "已取消，您的信息没有变化。"
FORGOTTEN = "已完成：{count} 件投诉中的身份信息已删除。"


# --- the web dashboard's login (/web) and the public pages' deep link (/start ru_…) ---------------------

WEB_LINK = (
    "🔐 <b>督办工作台登录链接</b>（{minutes} 分钟内有效，只能使用一次，请勿转发）：\n{url}\n\n"
    "在浏览器中打开后点“登录”。用完请点“退出登录”。"
)
WEB_OFF = "网页版督办工作台尚未启用（需设置 CHENGXIN_WEB 和 CHENGXIN_WEB_BASE_URL）。"
STAFF_ONLY = "抱歉，您没有权限使用这个命令：它仅供督办人员和已绑定的承办人使用。承办人请先用督办部门提供的邀请码 /bind 绑定。"
DEEP_LINK_UNKEPT = "ru_"


# --- refusals --------------------------------------------------------------------------------------------
# Every DomainError code (bot.domain.errors) and the text it is answered with, assembled once, here, after
# every text it names is defined; a code missing here is answered with ERROR_GENERIC, and
# tests/test_door.py checks that every code the code base raises has its entry.

RECORD_NOT_FOUND = "没有找到这条失信记录。"
LEDGER_ENCODING = "无法识别文件的编码，请另存为 UTF-8 编码的 CSV 或 .xlsx 工作簿后再导入。"

REFUSALS = {
    # cases, buttons, the door
    "bad_ref": BAD_REF,
    "case_not_found": CASE_NOT_FOUND,
    "forbidden": FORBIDDEN,
    "bad_transition": BAD_TRANSITION,
    "case_closed": CASE_CLOSED_FOR_CHANGE,
    "rate_limited": RATE_LIMITED,
    "stale": STALE_BUTTON,
    "already_submitted": ALREADY_SUBMITTED,
    "not_official": NOT_OFFICIAL,
    "not_supervisor": FORBIDDEN,  # the door's refusal of a command kept for supervisors
    "staff_only": STAFF_ONLY,
    # officials, invitations and the case lifecycle
    "bind_locked": BIND_LOCKED,
    "invite_wrong": INVITE_WRONG,
    "invite_used": INVITE_USED,
    "invite_expired": INVITE_EXPIRED,
    "invite_out_of_scope": INVITE_OUT_OF_SCOPE,
    "unknown_region": UNKNOWN_REGION,
    "account_not_found": ACCOUNT_NOT_FOUND,
    "department_not_found": DEPARTMENT_NOT_FOUND,
    "extension_not_later": EXTENSION_NOT_LATER,
    "no_open_clock": NO_OPEN_CLOCK,
    "record_state": RECORD_STATE,
    "record_not_found": RECORD_NOT_FOUND,
    "no_record": NO_RECORD,
    "no_approved_commitment": NO_APPROVED_COMMITMENT,
    "commitment_decided": STALE_BUTTON,
    "extension_decided": STALE_BUTTON,
    "reopen_window_passed": REOPEN_WINDOW_PASSED,
    "usage_verify": USAGE_VERIFY,
    **DATE_PROBLEMS,
    # supervision
    "bad_period": BAD_PERIOD,
    "bad_month": BAD_MONTH,
    "score_department_not_found": UNKNOWN_SCORE_DEPARTMENT,
    "out_of_region": OUT_OF_REGION,
    "cases_department_not_found": CASES_FILTER_DEPT_NOT_FOUND,
    # the commitment register
    "commitment_not_found": COMMITMENT_NOT_FOUND,
    "commitment_duplicate": COMMITMENT_DUPLICATE,
    "commitment_state": COMMITMENT_STATE,
    "change_pending": CHANGE_PENDING,
    "change_field": CHANGE_FIELD,
    "change_reason": CHANGE_REASON,
    "amount_unreadable": AMOUNT_UNREADABLE,
    "amount_too_large": AMOUNT_TOO_LARGE,
    "domain_unknown": DOMAIN_UNKNOWN,
    "ledger_encoding": LEDGER_ENCODING,
    # complaints: joining, follow-up details, the citizen's own data
    "already_joined": ALREADY_JOINED,
    "detail_amount": DETAIL_AMOUNT,
    "detail_amount_too_large": DETAIL_AMOUNT_TOO_LARGE,
    "detail_date": DETAIL_DATE,
    "detail_case_number": DETAIL_CASE_NUMBER,
    "detail_empty": DETAIL_EMPTY,
    "forget_open_cases": FORGET_OPEN_CASES,
}


def refusal(code: str, params: dict, role: str | None = None) -> str:
    """The polite message for a domain refusal, with advice for the refused person's role; values escaped."""
    template = REFUSALS.get(code, ERROR_GENERIC)
    if code in ("case_not_found", "bad_ref") and role in REFUSAL_ADVICE:
        template += REFUSAL_ADVICE[role]
    values = {k: esc(str(v)) for k, v in params.items()}
    if "status" in values:
        labels = {"record_state": RECORD_STATUS_LABELS, "commitment_state": COMMITMENT_STATUS_LABELS}.get(
            code, STATUS_LABELS)
        values["status"] = labels.get(str(params["status"]), str(params["status"]))
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template
