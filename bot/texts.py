"""Every user-facing string (简体中文 first). HTML parse mode: user text goes through `esc`."""

from __future__ import annotations

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

HELP = {
    "citizen": (
        "<b>如何使用</b>\n"
        "• 我要投诉 或 /complain：反映政务失信问题（也可直接发送文字）\n"
        "• 我的投诉 或 /mycases：查看您提交的全部投诉\n"
        "• 查询进度 或 /status 编号：查看某件投诉的办理进度，例如 /status YC-20261127-0042\n"
        "• /supplement 编号 [内容]：为办理中的投诉补充说明或证据\n"
        "• /withdraw 编号：撤回投诉\n"
        "• /cancel：放弃正在填写的投诉\n\n"
        "您的身份信息只有督办部门可见，不会告诉被投诉的部门。"
    ),
    "official": (
        "<b>承办人命令</b>\n"
        "• /help：本帮助\n"
        "案件分派给您的部门时，您会收到通知。"
    ),
    "supervisor": (
        "<b>督办命令</b>\n"
        "• /case 编号：案件全部信息（含投诉人）\n"
        "• /cases [状态]：案件列表，状态可选 submitted、assigned、in_progress、pending_review、closed、rejected、withdrawn\n"
        "• /assign 编号 部门：分派案件，部门可写代码、全称或简称，例如 /assign YC-20261127-0042 市财政局\n"
        "• /help：本帮助\n\n"
        "同时也可以像群众一样投诉和查询。"
    ),
}

COMMANDS = {
    "citizen": [
        ("complain", "我要投诉"),
        ("mycases", "我的投诉"),
        ("status", "查询进度：/status 编号"),
        ("supplement", "补充材料：/supplement 编号"),
        ("withdraw", "撤回投诉：/withdraw 编号"),
        ("cancel", "放弃正在填写的投诉"),
        ("help", "帮助"),
    ],
    "supervisor": [
        ("case", "案件详情：/case 编号"),
        ("cases", "案件列表：/cases [状态]"),
        ("assign", "分派：/assign 编号 部门"),
        ("complain", "我要投诉"),
        ("mycases", "我的投诉"),
        ("help", "帮助"),
    ],
}

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
CASE_NOT_FOUND = "没有找到编号为 {ref} 的投诉，或您无权查看。请核对编号（可发送 /mycases 查看自己的投诉）。"

CASE_STATUS = (
    "<b>投诉 {ref}</b>\n"
    "状态：{status}\n"
    "领域：{domain}\n"
    "承办部门：{department}\n"
    "提交时间：{created}\n\n"
    "<b>办理经过</b>\n{timeline}"
)
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
    "<b>原文</b>\n{text}\n"
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
    return "、".join(esc(t) for t in terms[:8]) if terms else NO_TERMS


def excerpt(text: str, limit: int = 600) -> str:
    """User text, escaped and cut to fit a chat message."""
    return esc(text if len(text) <= limit else text[:limit] + "…")


REFUSALS = {
    "bad_ref": BAD_REF,
    "case_not_found": CASE_NOT_FOUND,
    "forbidden": FORBIDDEN,
    "bad_transition": BAD_TRANSITION,
    "case_closed": CASE_CLOSED_FOR_CHANGE,
    "rate_limited": RATE_LIMITED,
    "stale": STALE_BUTTON,
    "already_submitted": ALREADY_SUBMITTED,
}


def refusal(code: str, params: dict) -> str:
    """The polite message for a domain refusal; user-typed values are escaped."""
    template = REFUSALS.get(code, ERROR_GENERIC)
    values = {k: esc(str(v)) for k, v in params.items()}
    if "status" in values:
        values["status"] = status_label(str(params["status"]))
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template
