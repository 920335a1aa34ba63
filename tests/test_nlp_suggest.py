"""nlp.suggest: a planted discriminative term is ranked first and its effect is positive."""

from __future__ import annotations

import json
from pathlib import Path

from nlp import Classifier
from nlp.suggest import candidate_features, format_suggestions, suggest_terms

DATA = Path(__file__).resolve().parent / "data"
PLANTED = "甩手掌柜"  # not in the lexicon: a nickname for officials who do nothing

CORRECTED = [
    ("局里那几个人就是甩手掌柜，群众的事情一概不问", "conduct"),
    ("找到单位，负责的人当甩手掌柜，说这事跟他没关系", "conduct"),
    ("这些人当甩手掌柜当惯了，交上去的申请没人看", "conduct"),
    ("甩手掌柜一样的干部，出了事就说不知道", "conduct"),
]
# labelled texts with the planted word that the current lexicon gets wrong, plus dev texts
EXTRA = [
    ("所里的人都是甩手掌柜，报上去的事没有下文", "conduct"),
    ("街上遇到甩手掌柜式的值班人员，叫了半天没人理", "conduct"),
]


def labelled() -> list[tuple[str, str]]:
    with (DATA / "complaints_dev.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return EXTRA + [(r["text"], r["domain"]) for r in rows[:120]]


def test_planted_term_ranks_first_with_positive_effect() -> None:
    # The lexicon alone, so the planted term's effect is exactly countable: with learned
    # weights the lexicon is a prior whose pull depends on the text's length.
    clf = Classifier.default().with_weights(None)
    assert all(clf.classify(t).domain != "conduct" for t, _ in EXTRA), "precondition: planted word unknown"
    out = suggest_terms(clf, CORRECTED, labelled(), limit=5)
    assert out, "no suggestions"
    best = out[0]
    assert (best.term, best.domain) == (PLANTED, "conduct")
    assert best.in_domain == 4 and best.elsewhere == 0  # never seen with another domain
    assert 1.0 <= best.weight <= 5.0
    assert best.accuracy_after > best.accuracy_before
    assert best.macro_f1_after > best.macro_f1_before
    assert best.fixed == 2 and best.broken == 0 and best.changed == 2
    assert best.corrected_fixed >= 3
    assert PLANTED in format_suggestions(out)
    assert best.lexicon_entry.startswith(f'"{PLANTED}": ')
    # nothing is written: the classifier's lexicon is unchanged
    assert PLANTED not in clf.lexicon.terms["conduct"]


def test_skips_stopwords_numbers_and_known_terms() -> None:
    feats = candidate_features(["我们", "的", "2023", "三万", "，", "踢皮球", "甩手", "掌柜"])
    assert "我们" not in feats and "的" not in feats and "2023" not in feats and "三万" not in feats
    assert "甩手掌柜" in feats  # bigram
    clf = Classifier.default()
    corrected = [("他们就会踢皮球，踢皮球踢了一年", "conduct"), ("又是踢皮球，窗口说找局里", "conduct")]
    terms = [s.term for s in suggest_terms(clf, corrected, [], limit=20)]
    assert "踢皮球" not in terms  # already in the lexicon for conduct


def test_domain_filter() -> None:
    clf = Classifier.default()
    mixed = CORRECTED + [("楼下树倒了压坏了车", "other"), ("树倒了没人管", "other")]
    assert {s.domain for s in suggest_terms(clf, mixed, [], domain="other")} <= {"other"}
