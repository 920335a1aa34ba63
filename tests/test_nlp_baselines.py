"""Issue 14: the standard linear text classifiers on the same real splits (nlp.baselines).  No network."""

from __future__ import annotations

from collections import Counter

import pytest

from nlp import baselines
from nlp.learned import is_evidence_token


@pytest.fixture(scope="module")
def texts() -> dict[str, list[baselines.Text]]:
    return baselines._texts()


def test_texts_are_the_real_splits_with_numbers_left_out(texts) -> None:
    from nlp.corpus import load_corpus

    assert len(texts["train"]) + len(texts["dev"]) + len(texts["holdout"]) == len(load_corpus().rows)
    sites = {s: {t.site for t in texts[s]} for s in ("train", "dev", "holdout")}
    assert not sites["train"] & sites["dev"] and not sites["train"] & sites["holdout"]
    assert all(t.weight < 1 for t in texts["written"]) and all(t.weight == 1 for t in texts["train"])
    for t in texts["train"][:200]:
        assert all(is_evidence_token(w) for w in t.tokens.split())
        assert not any(w.isdigit() for w in t.tokens.split())


def test_a_baseline_learns_the_domains_and_is_deterministic(texts) -> None:
    name = "TF-IDF char 1-3 + linear SVM"
    train, dev = texts["train"] + texts["written"], texts["dev"]
    first = baselines.fit_and_score(name, 1.0, train, dev)
    assert first == baselines.fit_and_score(name, 1.0, train, dev)
    assert first["n"] == len(dev)
    # far above guessing the commonest domain (its macro-F1 is under 0.1 with ten domains)
    commonest = Counter(t.domain for t in dev).most_common(1)[0][1] / len(dev)
    assert first["accuracy"] > commonest + 0.3
    assert first["macro_f1"] > 0.6 and first["top2"] > first["accuracy"]


def test_c_is_chosen_inside_train_by_site(texts, monkeypatch) -> None:
    monkeypatch.setattr(baselines, "C_GRID", (0.01, 1.0))
    small = [t for t in texts["train"] if baselines._fold_of(t.site) in (0, 1, 2)][:600]
    c, oof = baselines.choose_c("TF-IDF jieba tokens + linear SVM", small)
    assert c in (0.01, 1.0) and 0 < oof <= 1
    # a text's fold is its site's: no site is ever on both sides of a fold
    folds: dict[str, set[int]] = {}
    for t in small:
        folds.setdefault(t.site, set()).add(baselines._fold_of(t.site))
    assert all(len(f) == 1 for f in folds.values())


def test_main_prints_dev_figures_and_never_the_holdout_unless_asked(capsys, monkeypatch) -> None:
    monkeypatch.setattr(baselines, "C_GRID", (1.0,))
    assert baselines.main(["--only", "TF-IDF char"]) == 0
    out = capsys.readouterr().out
    assert "TF-IDF char 1-3 + linear SVM (dev)" in out and "F1 0." in out and "C 1.0" in out
    assert "(holdout)" not in out and "jieba tokens" not in out
