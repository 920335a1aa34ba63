"""nlp.evaluation on a tiny hand-made set whose metrics were computed by hand."""

from __future__ import annotations

import pytest

from nlp import DOMAINS, Classification, Classifier
from nlp.evaluation import evaluate, format_report

# text -> (predicted, runner-up, score of predicted, score of runner-up)
PLAN = {
    "a": ("debt", "procurement", 0.6, 0.3),
    "b": ("procurement", "debt", 0.5, 0.4),  # gold debt: wrong, but top-2
    "c": ("procurement", "debt", 0.7, 0.2),
    "d": ("other", "conduct", 0.8, 0.1),
    "e": ("conduct", "bidding", 0.9, 0.05),  # gold other: wrong, not in top-2, big gap
    "f": ("conduct", "other", 0.6, 0.3),
    "g": ("conduct", "township", 0.5, 0.4),
}
GOLD = [("a", "debt"), ("b", "debt"), ("c", "procurement"), ("d", "other"), ("e", "other"),
        ("f", "conduct"), ("g", "conduct")]


class Fake:
    CONFIDENCE_THRESHOLD = 0.5

    def classify(self, text: str) -> Classification:
        pred, second, s1, s2 = PLAN[text]
        rest = (1.0 - s1 - s2) / 8
        scores = {d: rest for d in DOMAINS}
        scores[pred], scores[second] = s1, s2
        return Classification(pred, s1, scores, [f"t-{pred}"], {pred: [f"t-{pred}"]})


def test_metrics_match_hand_computation() -> None:
    r = evaluate(Fake(), GOLD)
    # 5 of 7 right; 6 of 7 have the gold domain in the top two (all but "e")
    assert r.n == 7
    assert r.accuracy == pytest.approx(5 / 7)
    assert r.top2_accuracy == pytest.approx(6 / 7)
    # debt: tp1 gold2 pred1 -> P1 R.5 F2/3; procurement: tp1 gold1 pred2 -> P.5 R1 F2/3
    # other: tp1 gold2 pred1 -> F2/3; conduct: tp2 gold2 pred3 -> P2/3 R1 F.8
    m = r.per_domain
    assert (m["debt"].precision, m["debt"].recall) == (1.0, 0.5)
    assert m["procurement"].precision == 0.5 and m["procurement"].recall == 1.0
    assert m["conduct"].precision == pytest.approx(2 / 3) and m["conduct"].f1 == pytest.approx(0.8)
    assert m["debt"].f1 == pytest.approx(2 / 3)
    # macro over the 4 domains that occur (bidding/township were only runners-up)
    assert r.macro_f1 == pytest.approx((3 * (2 / 3) + 0.8) / 4)
    assert r.other_recall == 0.5
    assert r.confusion["debt"]["procurement"] == 1 and r.confusion["other"]["conduct"] == 1
    assert r.confusion["conduct"]["conduct"] == 2
    # confident share: confidence (= s1 here) >= 0.5 for all 7; 5 of them right
    assert r.confident_share == 1.0 and r.confident_accuracy == pytest.approx(5 / 7)
    # worst first: "e" (gap .9 - rest) before "b" (gap .1)
    assert [e.text for e in r.errors] == ["e", "b"]
    assert r.errors[0].gold_rank > 2 and r.errors[1].gold_rank == 2
    assert r.errors[0].terms_by_domain == {"conduct": ["t-conduct"]}


def test_format_report_is_a_readable_table() -> None:
    out = format_report(evaluate(Fake(), GOLD))
    assert "accuracy 0.714" in out and "macro-F1 0.700" in out and "top-2 0.857" in out
    assert "'other' recall 0.500" in out
    assert "conduct" in out and "confusion" in out
    assert "gold other -> conduct" in out and "fired  conduct: t-conduct" in out
    assert "bidding " not in out.split("confusion")[0]  # unused domain rows are left out


def test_accepts_dicts_and_rejects_unknown_domains() -> None:
    r = evaluate(Classifier.default(), [{"text": "区住建局拖欠我们工程款800万", "domain": "debt"}])
    assert r.accuracy == 1.0 and r.other_recall is None
    with pytest.raises(ValueError):
        evaluate(Fake(), [("a", "lottery")])
