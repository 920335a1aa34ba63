"""Follow-up questions chosen by the triage result, and the structured fields they fill.

Arrears (debt, procurement) ask for the project or contract, the amount owed and since when; a court
judgment the case number (案号) and judgment date; statistics the indicator and period. Values found in
the complaint text are offered first, so the citizen only confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.domain.errors import InvalidInput
from nlp.extract import extract_amounts, extract_case_number, extract_dates, oversized_amounts


@dataclass(frozen=True)
class DetailField:
    key: str
    label: str
    kind: str  # text | amount | date | case_number


_ARREARS = (
    DetailField("project", "项目或合同名称", "text"),
    DetailField("amount", "拖欠金额", "amount"),
    DetailField("since", "从什么时候开始拖欠", "date"),
)
FIELDS: dict[str, tuple[DetailField, ...]] = {
    "debt": _ARREARS,
    "procurement": _ARREARS,
    "judgment": (DetailField("case_number", "法院案号", "case_number"), DetailField("judgment_date", "判决日期", "date")),
    "statistics": (DetailField("indicator", "涉及的统计指标", "text"), DetailField("period", "涉及的统计期间", "text")),
}
MAX_ANSWER = 200


def fields_for(domain: str) -> tuple[DetailField, ...]:
    return FIELDS.get(domain, ())


def _date_text(mention) -> str:
    value = mention.value
    if isinstance(value, date):
        return value.isoformat() + ("（约）" if mention.approximate else "")
    year, month = value
    return f"{year}年{month}月" if month else f"{year}年"


def prefill(domain: str, text: str, today: date) -> dict[str, str]:
    """What the complaint text already says for this domain's questions."""
    found: dict[str, str] = {}
    keys = {f.key: f for f in fields_for(domain)}
    if "amount" in keys and (amounts := extract_amounts(text)):
        biggest = max(amounts, key=lambda a: a.value_yuan)
        found["amount"] = biggest.raw.strip()
        found["amount_yuan"] = str(biggest.value_yuan)
    dates = extract_dates(text, today)
    for key in ("since", "judgment_date"):
        if key in keys and dates:
            found[key] = _date_text(dates[0])
    if "case_number" in keys and (number := extract_case_number(text)):
        found["case_number"] = number.normalized
    return found


def parse_answer(field: DetailField, answer: str, today: date) -> dict[str, str]:
    """A typed answer as field values; InvalidInput with an example when it cannot be read."""
    answer = answer.strip()[:MAX_ANSWER]
    if not answer:
        raise InvalidInput("detail_empty", label=field.label)
    if field.kind == "amount":
        amounts = extract_amounts(answer) or extract_amounts(answer + "元")
        if not amounts and (oversized_amounts(answer) or oversized_amounts(answer + "元")):
            raise InvalidInput("detail_amount_too_large", text=answer)
        if not amounts:
            raise InvalidInput("detail_amount", text=answer)
        return {"amount": amounts[0].raw.strip() or answer, "amount_yuan": str(amounts[0].value_yuan)}
    if field.kind == "date":
        dates = extract_dates(answer, today)
        if not dates:
            raise InvalidInput("detail_date", text=answer)
        return {field.key: _date_text(dates[0])}
    if field.kind == "case_number":
        number = extract_case_number(answer)
        if number is None:
            raise InvalidInput("detail_case_number", text=answer)
        return {field.key: number.normalized}
    return {field.key: answer}


def total_amount(details: dict | None) -> Decimal:
    if not details or not details.get("amount_yuan"):
        return Decimal(0)
    return Decimal(details["amount_yuan"])
