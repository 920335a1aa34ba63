"""Traditional-character input: normalised once (OpenCC t2s), classified and matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp import Classifier, DepartmentMatcher, normalize_text

CSV = Path(__file__).resolve().parents[1] / "bot" / "data" / "departments.csv"
_CLF = Classifier.default()


@pytest.mark.parametrize(
    "text,domain",
    [
        ("區住建局拖欠我們工程款八百萬，說好年底給錢，結果一直拖著不給", "debt"),
        ("這個招標明顯是內定的，幾家公司圍標串標，招標文件量身定製", "bidding"),
        ("開發區管委會招商時承諾的稅收返還，換屆以後一分沒兌現", "investment"),
        ("法院判決鎮政府賠償，判決生效兩年了，至今拒不履行", "judgment"),
        ("窗口工作人員互相推諉，踢皮球，辦個事跑了五趟", "conduct"),
        ("鎮裡讓企業虛報產值，統計數據嚴重注水", "statistics"),
        ("樓下飯店噪音太大，每天半夜還在吵", "other"),
    ],
)
def test_traditional_text_is_classified(text, domain) -> None:
    res = _CLF.classify(text)
    assert res.domain == domain, res.terms_by_domain
    # the same text in simplified gets the same answer
    assert _CLF.classify(normalize_text(text)).domain == domain


def test_normalisation_is_one_to_one_and_phrase_aware() -> None:
    t = "乾脆不給錢，於是找了乾隆年間的古董"
    n = normalize_text(t)
    assert len(n) == len(t)
    assert n.startswith("干脆不给钱，于是")  # ambiguous 乾/於 resolved by OpenCC phrases
    assert "乾隆" in n  # ... and the name left alone
    assert normalize_text("区住建局拖欠ＡＢＣ１２３") == "区住建局拖欠abc123"  # full-width folded
    s = "区住建局拖欠工程款"
    assert normalize_text(s) == s  # simplified text: fast path, unchanged


def test_departments_found_in_traditional_text() -> None:
    m = DepartmentMatcher.from_csv(CSV)
    text = "亭湖區住建局拖欠我們工程款"
    found = m.find(text)
    assert [x.code for x in found] == ["tinghu-zjj"]
    assert found[0].matched == "亭湖區住建局" and found[0].start == 0  # as written
    assert [x.code for x in m.find("亭湖区住建局拖欠我们工程款")] == ["tinghu-zjj"]
