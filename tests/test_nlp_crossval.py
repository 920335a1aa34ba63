"""Issue 14, sixth round: term frequencies in the learned score, the 'other' margin pooled over
fold assignments, boundary bigrams (evaluation only) and nlp.crossval.  No network."""

from __future__ import annotations

import dataclasses
import re

import pytest

from nlp.classifier import normalize_text
from nlp.crossval import cross_validate, dev_figures, learning_curve, parse_candidate
from nlp.learned import LearnedWeights, boundary_keys, combine
from nlp.training import TrainingSettings, _folds, _score, _Tables, train
from tests.test_nlp_training import base, docs

QUICK = TrainingSettings(margin_salts=("",))


@pytest.fixture(scope="module")
def trained() -> LearnedWeights:
    return train(docs(), QUICK)[0]


def _probs(w: LearnedWeights, text: str) -> list[float]:
    """P(other), P(domain)... as training scores ``text`` (nlp.training._score + combine)."""
    from nlp.training import prepare, usable

    d = usable(prepare(base(), [(text, "other", "x")]), QUICK)[0]  # as training counts it
    s = _score(d, _Tables(w.domain_vectors, w.gate_weights), w.length_power, w.subwords, w.tf_scale)
    p_other, p_dom = combine(w, s.nb_sum, s.gate_sum, s.n, s.lex, s.lex_other, s.actors)
    return [p_other, *p_dom]


def _strong_word(w: LearnedWeights) -> str:
    """A whole token the lexicon does not know that leans hardest to one domain."""
    clf = base()
    free = [t for t in w.domain_vectors if not t.startswith("~") and not clf.classify(t).terms_by_domain
            and clf.tokenize(t) == [t]]
    return max(sorted(free), key=lambda t: max(w.token_weights(t)[:-1]) - min(w.token_weights(t)[:-1]))


def test_a_word_said_again_weighs_more_and_the_bot_scores_as_training_does(trained) -> None:
    assert trained.tf_scale == QUICK.tf_scale > 0
    clf = base().with_weights(trained)
    word = _strong_word(trained)
    i = max(range(len(trained.domains)), key=lambda j: trained.token_weights(word)[j])
    domain = trained.domains[i]
    once, thrice = f"街道办的事：{word}。", f"街道办的事：{word}，{word}，{word}。"
    p_once, p_thrice = clf.classify(once).scores[domain], clf.classify(thrice).scores[domain]
    assert p_thrice > p_once
    for text in (once, thrice, "区住建局拖欠工程款，工程款拖欠三年，工程款至今没给"):
        res = clf.classify(text)
        expected = _probs(trained, text)
        assert [res.scores["other"], *(res.scores[d] for d in trained.domains)] == pytest.approx(expected, abs=1e-9)
    # a file from before term frequencies (tf_scale 0) reads every word once per text, as it did
    old = base().with_weights(dataclasses.replace(trained, tf_scale=0.0))
    assert old.classify(thrice).scores == pytest.approx(old.classify(f"街道办的事：{word}，{word}。").scores)


def test_repeated_words_still_explain_with_words_of_the_text(trained) -> None:
    text = "村干部克扣补贴，村干部还威胁我们，村干部说补贴没有了，电话13912345678"
    res = base().with_weights(trained).classify(text)
    assert res.terms and all(t in normalize_text(text) for t in res.terms)
    assert len(res.terms) == len(set(res.terms))
    assert not any(re.search(r"\d", t) for terms in res.terms_by_domain.values() for t in terms)


def test_tf_scale_survives_the_file_and_old_files_read_zero(trained, tmp_path) -> None:
    trained.save(tmp_path / "w.json")
    assert LearnedWeights.load(tmp_path / "w.json").tf_scale == trained.tf_scale
    data = trained.to_json()
    del data["tf_scale"]
    assert LearnedWeights.from_json(data).tf_scale == 0.0


def test_margin_pooled_over_fold_assignments_is_deterministic() -> None:
    settings = dataclasses.replace(QUICK, margin_salts=("", "a"))
    first, meta = train(docs(), settings)
    assert train(docs(), settings)[0].dumps() == first.dumps()
    assert meta["other_margin"] in settings.other_margins


def test_fold_assignments_differ_by_salt_and_keep_sites_whole() -> None:
    ds = docs()
    plain, salted = _folds(ds, 5), _folds(ds, 5, "a")
    assert plain != salted
    for folds in (plain, salted):
        by_site: dict[str, set] = {}
        for d, f in zip(ds, folds):
            by_site.setdefault(d.group, set()).add(f)
        assert all(len(s) == 1 for s in by_site.values())


def test_boundary_bigrams_are_number_free_and_for_evaluation_only() -> None:
    assert boundary_keys(["欠", "薪", "拖欠"]) == ("~欠薪", "~薪拖")
    assert boundary_keys(["欠", "薪", "拖欠"], single_only=True) == ("~欠薪", "~薪拖")
    assert boundary_keys(["拖欠", "工资"], single_only=True) == ()
    assert boundary_keys(["欠款", "2023", "年", "12345", "万元"]) == ()  # digits, quantities
    with pytest.raises(ValueError, match="cross-validation only"):
        train(docs(), dataclasses.replace(QUICK, boundary_grams=True))


def test_cross_validation_and_dev_figures() -> None:
    ds = docs()
    cv = cross_validate(ds, QUICK, salts=("", "a"))
    assert len(cv["runs"]) == 2
    assert 0.0 <= cv["macro_f1"] <= 1.0 and 0.0 <= cv["top2"] <= 1.0
    dev = [d for d in ds if d.group == "site0"]
    rest = [d for d in ds if d.group != "site0"]
    f = dev_figures(rest, dev, QUICK)
    assert f["n"] == len(dev) and 0.0 <= f["accuracy"] <= 1.0


def test_learning_curve_trains_on_shares_of_whole_sites() -> None:
    from nlp.training import prepare
    from tests.test_nlp_training import labelled

    ds = prepare(base(), [(t, d, f"site{i % 24}") for i, (t, d) in enumerate(labelled("complaints_dev.jsonl", 16))])
    dev = [d for d in ds if d.group in ("site0", "site1")]
    train_docs = [d for d in ds if d not in dev]
    rows = learning_curve(train_docs, dev, fractions=(0.5, 1.0), draws=2, settings=QUICK)
    assert [r["fraction"] for r in rows] == [0.5, 1.0] and len(rows[0]["runs"]) == 2 and len(rows[1]["runs"]) == 1
    assert rows[0]["texts"] < rows[1]["texts"] == len(train_docs)
    assert {k: rows[1][k] for k in ("macro_f1", "top2")} == {
        k: round(dev_figures(train_docs, dev, QUICK)[k], 4) for k in ("macro_f1", "top2")}


def test_parse_candidate() -> None:
    s = parse_candidate("tf_scale=0.5,length_powers=0/0.5,boundary_grams=single,subwords=0,margin_salts=/a")
    assert (s.tf_scale, s.length_powers, s.boundary_grams, s.subwords, s.margin_salts) == (
        0.5, (0.0, 0.5), "single", False, ("", "a"))
