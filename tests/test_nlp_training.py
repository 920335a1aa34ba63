"""nlp.training / nlp.learned: deterministic training, explanations, number-free evidence,
the calibrated threshold, and `lexicon train` with corrections.  No network, no scikit-learn."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import bot.cli_lexicon as cli
from nlp import DOMAINS, Classifier, Lexicon
from nlp.classifier import normalize_text
from nlp.evaluation import expected_calibration_error, reliability
from nlp.learned import (ACTOR_WORDS, DEFAULT_WEIGHTS_PATH, REGIONAL_WORDS, LearnedWeights, actor_side,
                         is_evidence_token, subword_keys)
from nlp.training import TrainingSettings, choose_margin, choose_threshold, prepare, train

DATA = Path(__file__).resolve().parent / "data"
QUICK = TrainingSettings(alphas=(0.3,), length_powers=(0.0,), margin_salts=("",))  # one fold assignment: quick
_BASE: Classifier | None = None


def base() -> Classifier:
    global _BASE
    if _BASE is None:
        _BASE = Classifier.default().with_weights(None)
    return _BASE


def labelled(name: str, per_domain: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    out, seen = [], {d: 0 for d in DOMAINS}
    for r in rows:
        if seen[r["domain"]] < per_domain:
            seen[r["domain"]] += 1
            out.append((r["text"], r["domain"]))
    return out


def docs(per_domain: int = 18):
    # ten pretend sources, so the folds have whole sources to keep apart
    return prepare(base(), [(t, d, f"site{i % 10}") for i, (t, d) in enumerate(labelled("complaints_dev.jsonl", per_domain))])


@pytest.fixture(scope="module")
def trained() -> LearnedWeights:
    return train(docs(), QUICK)[0]


# ---------------------------------------------------------------- training
def test_same_data_same_weights_byte_for_byte(trained, tmp_path) -> None:
    again = train(docs(), QUICK)[0]
    assert again.dumps() == trained.dumps()
    trained.save(tmp_path / "w.json")
    assert LearnedWeights.load(tmp_path / "w.json").dumps() == trained.dumps()  # stable round trip


def test_different_data_different_weights(trained) -> None:
    assert train(docs(per_domain=14), QUICK)[0].dumps() != trained.dumps()


def test_too_few_sources_to_cross_validate_is_refused() -> None:
    few = prepare(base(), [(t, d, "one-site") for t, d in labelled("complaints_dev.jsonl", 3)])
    with pytest.raises(ValueError, match="sources"):
        train(few, QUICK)


def test_learned_model_classifies_unseen_text_and_its_probabilities_sum_to_one(trained) -> None:
    clf = base().with_weights(trained)
    held_out = labelled("complaints_test.jsonl", 6)
    right = sum(clf.classify(t).domain == d for t, d in held_out)
    assert right / len(held_out) >= 0.7  # a sanity floor: learned from 180 texts only
    res = clf.classify(held_out[0][0])
    assert sum(res.scores.values()) == pytest.approx(1.0)
    assert res.confidence == res.scores[res.domain] == max(res.scores.values())
    assert [d for d, _ in res.ranked()][0] == res.domain


# ---------------------------------------------------------------- explanations
@pytest.mark.parametrize("text", [
    "区住建局拖欠我们工程款800万元，竣工决算早就做完了",
    "街道办公开承诺的老小区改造没兑现，财务也从不公开",
    "窗口工作人员推诿扯皮，办个事跑了五趟，还暗示要好处费",
    "楼下饭店噪音太大，每天半夜还在吵，路灯也坏了",
])
def test_terms_are_words_of_the_text_that_back_the_winner(trained, text) -> None:
    res = base().with_weights(trained).classify(text)
    assert res.terms, "the decision must be explained"
    assert res.terms == res.terms_by_domain[res.domain]
    norm = normalize_text(text)
    assert all(t in norm for t in res.terms)
    assert len(res.terms) == len(set(res.terms))


def test_learned_words_join_the_explanation_when_the_lexicon_has_none(trained) -> None:
    # words the lexicon lacks that the training texts tie to one domain: together, two
    # such words decide for their domain and are shown as the reason
    clf = base().with_weights(trained)
    # whole tokens only ("~" keys are character bigrams); a token's weight includes its bigrams'
    vec = {t: trained.token_weights(t)[:-1] for t in trained.domain_vectors if not t.startswith("~")}

    def lead(t: str, i: int) -> float:
        return vec[t][i] - max(x for j, x in enumerate(vec[t]) if j != i)

    free = sorted(t for t in vec if not base().classify(t).terms_by_domain and clf.tokenize(t) == [t])
    shown = 0
    for i, domain in enumerate(trained.domains):
        a, b = sorted(free, key=lambda t: (-lead(t, i), t))[:2]
        res = clf.classify(f"{a}，{b}")
        if res.domain == domain:
            assert res.terms and set(res.terms) <= {a, b}
            assert res.terms == sorted(res.terms, key=f"{a}，{b}".index)  # in the text's order
            shown += 1
    assert shown
    assert "这个" not in clf.classify("这个工程款的事").terms  # function words never explain


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize("token,ok", [
    ("13912345678", False), ("12345", False), ("2022", False), ("800", False), ("万元", False),
    ("三个月", False), ("两年", False), ("上午", False), ("工程款", True), ("拖欠", True), ("ppp", True),
    ("欠", False),
])
def test_evidence_tokens(token, ok) -> None:
    assert is_evidence_token(token) is ok


def test_numbers_phones_dates_and_amounts_are_never_evidence(trained) -> None:
    text = "我的电话13912345678，2023年3月15日起欠款86.5万元，拨打12345两次，合同号20230315"
    for clf in (base(), base().with_weights(trained), Classifier.default()):
        res = clf.classify(text)
        for terms in res.terms_by_domain.values():
            assert not any(re.search(r"\d", t) for t in terms), res.terms_by_domain
    tokens = base().evidence(text)[0]
    assert all(not re.search(r"\d", t) for t in tokens)
    # the phone number alone is no complaint about anything
    alone = base().with_weights(trained).classify("13912345678")
    assert not alone.terms


def test_subword_keys_are_number_free_bigrams_of_longer_tokens() -> None:
    assert subword_keys("拖欠款") == ("~拖欠", "~欠款")
    assert subword_keys("欠款") == ()  # a two-character token is its own only feature
    assert subword_keys("三个月工资") == ("~月工", "~工资")  # 三个 / 个月 are quantities
    assert subword_keys("哈哈哈哈") == ("~哈哈",)  # each bigram once


def test_an_unseen_word_counts_through_the_bigrams_it_shares(trained) -> None:
    # the point of subwords: a word no training text had still weighs what its pieces weigh
    assert trained.subwords
    known = sorted(k for k in trained.domain_vectors if k.startswith("~"))
    a, b = known[0][1:], known[-1][1:]
    unseen = a + b
    assert unseen not in trained.domain_vectors
    got = trained.token_weights(unseen)
    keys = [k for k in subword_keys(unseen) if k in trained.domain_vectors]
    want = [sum(trained.domain_vectors[k][i] for k in keys) for i in range(len(trained.domains))]
    assert list(got[:-1]) == pytest.approx(want)
    assert got[-1] == pytest.approx(sum(trained.gate_weights[k] for k in keys))
    without = dataclasses.replace(trained, subwords=False)
    assert without.token_weights(unseen) is None  # weights files from before subwords: tokens only
    old = json.loads(trained.dumps())
    del old["subwords"]
    assert LearnedWeights.from_json(old).subwords is False


def test_a_regional_word_counts_as_the_mainland_word_it_means(trained) -> None:
    # Taiwan's 積欠 is the mainland's 拖欠: OpenCC's character fold gives 积欠, so training
    # counts it as 拖欠 and the classifier reads it so, with the map shipped in the weights
    [doc] = prepare(base(), [("縣府積欠包商工程款", "debt", "s")])
    assert {"县政府", "拖欠", "承包商"} <= set(doc.tokens)
    assert not {"县府", "积欠", "包商"} & set(doc.tokens)
    assert trained.regional_words["积欠"] == "拖欠" and "拖欠" in trained.domain_vectors
    assert trained.token_weights("积欠") == trained.token_weights("拖欠")
    old = json.loads(trained.dumps())
    del old["regional_words"]  # files from before the fold: every word as itself
    assert LearnedWeights.from_json(old).token_weights("积欠") is None


def test_a_token_with_digits_gets_no_learned_weight_from_its_bigrams(trained) -> None:
    clf = base().with_weights(trained)
    word = next(k for k in sorted(trained.domain_vectors) if len(k) >= 3 and subword_keys(k)
                and all(s in trained.domain_vectors for s in subword_keys(k)))
    clf.add_words([word + "2023"])  # e.g. a product or case code the dictionary keeps whole
    assert clf.tokenize(word + "2023") == [word + "2023"]
    res = clf.classify(word + "2023")
    assert res.terms_by_domain == {} and res.scores == clf.classify("2023").scores


def test_the_lexicon_rejects_terms_with_digits() -> None:
    spec = {"domains": {"conduct": {"terms": {"12345": 1.0}}}, "groups": {"government": ["政府"], "private": ["老板"]}}
    with pytest.raises(ValueError, match="digits"):
        Lexicon.from_dict(spec)


def test_shipped_weights_hold_only_evidence_tokens() -> None:
    if not DEFAULT_WEIGHTS_PATH.is_file():
        pytest.skip("no weights.json shipped")
    w = LearnedWeights.load(DEFAULT_WEIGHTS_PATH)
    assert w.subwords and w.regional_words == REGIONAL_WORDS and w.actor_words == ACTOR_WORDS
    assert all(is_evidence_token(t.removeprefix("~")) for t in w.domain_vectors)  # bigram keys too
    assert DEFAULT_WEIGHTS_PATH.read_text(encoding="utf-8") == w.dumps()  # as `lexicon train` writes it


def test_weights_are_read_line_by_line_with_each_key_and_number_held_once(tmp_path) -> None:
    if not DEFAULT_WEIGHTS_PATH.is_file():
        pytest.skip("no weights.json shipped")
    text = DEFAULT_WEIGHTS_PATH.read_text(encoding="utf-8")
    w = LearnedWeights.load(DEFAULT_WEIGHTS_PATH)
    assert w == LearnedWeights.from_json(json.loads(text))  # the same model as parsed whole
    keys = {id(k) for k in w.domain_vectors}
    assert all(id(k) in keys for k in w.gate_weights)  # one string per table key
    numbers = [x for v in w.domain_vectors.values() for x in v]
    assert len({id(x) for x in numbers}) == len(set(numbers)) < len(numbers) / 2  # one object per value
    # a file laid out otherwise (edited by hand, compact JSON) is parsed whole, with the same checks
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(json.loads(text), ensure_ascii=False), encoding="utf-8")
    assert LearnedWeights.load(compact) == w
    bad = tmp_path / "bad.json"
    first = text.index("[", text.index('"tokens": {')) + 1  # the first token's first weight
    bad.write_text(text[:first] + "NaN" + text[text.index(",", first):], encoding="utf-8")
    with pytest.raises(ValueError, match="finite"):
        LearnedWeights.load(bad)


def test_the_logistic_regression_joins_the_domain_table_and_stays_deterministic(trained) -> None:
    assert QUICK.lr_domain_weight > 0  # the shipped setting
    nb_only = train(docs(), dataclasses.replace(QUICK, lr_domain_weight=0.0))[0]
    assert nb_only.dumps() != trained.dumps()
    assert set(nb_only.domain_vectors) == set(trained.domain_vectors)  # the same words, other weights
    assert set(nb_only.gate_weights.items()) == set(trained.gate_weights.items())  # the gate is naive Bayes
    assert trained.meta["logistic_domain"] == {"weight": QUICK.lr_domain_weight, "l2": QUICK.lr_domain_l2}
    assert train(docs(), QUICK)[0].dumps() == trained.dumps()


def test_the_bot_classifies_without_numpy(tmp_path) -> None:
    # numpy is for training (nlp.logistic); the bot reads the shipped table with the standard library
    import subprocess
    import sys
    code = ("import sys; from nlp import Classifier; c = Classifier.default(); "
            "r = c.classify('区住建局拖欠我们工程款'); assert r.domain; "
            "assert 'numpy' not in sys.modules, 'numpy imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------- threshold
def test_threshold_is_where_guesses_become_right_often_enough() -> None:
    conf = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    right = [True, True, True, True, True, True, True, False, True, False]
    t = choose_threshold(conf, right, target=0.9)
    above = [ok for c, ok in zip(conf, right) if c >= t]
    assert sum(above) / len(above) >= 0.9
    assert t == 0.5  # the top 7 are all right; going lower, 7/8 and 8/9 fall short of 0.9
    assert choose_threshold([0.9, 0.8], [False, False], target=0.9) == 0.5


def test_classifier_asks_below_the_learned_threshold(trained) -> None:
    clf = base().with_weights(trained)
    assert clf.CONFIDENCE_THRESHOLD == trained.confidence_threshold
    assert Classifier.default().CONFIDENCE_THRESHOLD == (
        LearnedWeights.load(DEFAULT_WEIGHTS_PATH).confidence_threshold if DEFAULT_WEIGHTS_PATH.is_file()
        else Classifier.CONFIDENCE_THRESHOLD)
    for text in ("", "！！！", "   "):
        res = clf.classify(text)
        assert res.domain == "other" and res.confidence < clf.CONFIDENCE_THRESHOLD
    vague = clf.classify("请问这个怎么办")
    clear = clf.classify("区住建局拖欠我们工程款800万元，竣工决算早就做完了")
    assert clear.confidence >= clf.CONFIDENCE_THRESHOLD > 0
    assert clear.confidence > vague.confidence


# ---------------------------------------------------------------- out-of-scope margin
def test_margin_finds_more_other_texts_within_what_it_may_cost() -> None:
    gold = ["other"] * 4 + ["debt"] * 4 + ["ppp"] * 2
    plain = ["other", "other", "debt", "debt", "debt", "debt", "debt", "debt", "ppp", "ppp"]
    wider = ["other", "other", "other", "debt", "debt", "debt", "debt", "debt", "ppp", "ppp"]  # one more found
    widest = ["other"] * 5 + ["debt", "debt", "debt", "ppp", "ppp"]  # ...and a debt text lost to 'other'
    chosen = choose_margin([(0.0, plain), (0.5, wider), (1.0, widest)], gold, f1_tolerance=0.2, precision_floor=0.85)
    assert chosen == 0.5  # 1.0 finds more but 'other' precision falls to 0.8
    assert choose_margin([(0.0, plain), (0.5, wider), (1.0, widest)], gold, 0.2, precision_floor=0.75) == 1.0
    # nothing within the limits: no shift at all
    assert choose_margin([(0.0, widest), (0.5, widest)], gold, 0.2, precision_floor=0.95) == 0.0


def test_margin_sends_a_close_call_to_other_and_keeps_probabilities(trained) -> None:
    text = "区住建局拖欠我们工程款800万元，竣工决算早就做完了"
    plain = base().with_weights(dataclasses.replace(trained, other_margin=0.0)).classify(text)
    assert plain.domain != "other"
    wide = dataclasses.replace(trained, other_margin=50.0)  # 'other' wins whenever it has any probability
    res = base().with_weights(wide).classify(text)
    assert res.domain == "other" and res.scores == plain.scores  # the decision moved, not the probabilities
    assert res.confidence == res.scores["other"] < plain.confidence
    assert [d for d, _ in res.ranked()][:2] == ["other", plain.domain]
    assert res.terms == res.terms_by_domain.get("other", [])
    # the margin travels with the weights file; a file written before it existed reads as 0
    assert LearnedWeights.from_json(json.loads(wide.dumps())).other_margin == 50.0
    old = json.loads(trained.dumps())
    del old["combine"]["other_margin"]
    assert LearnedWeights.from_json(old).other_margin == 0.0


def test_private_party_words_against_government_words_move_the_gate(trained) -> None:
    # the gate's own feature: which side the text's actor words are on (nlp.learned.actor_side)
    assert actor_side(["房东", "押金", "政府"]) == 1 and actor_side(["政府", "城管"]) == -1
    assert actor_side(["房东", "政府"]) == 0 and actor_side(["工程款"]) == 0
    assert trained.actor_words == ACTOR_WORDS and len(trained.gate_coef) == 10
    [doc] = prepare(base(), [("房東不退押金，業主找物業也沒用", "other", "s")])
    assert doc.actors[2] == 1  # 房东 / 业主 / 物业 / 押金, read through the traditional fold

    def p_other(text: str, side_coef: float) -> float:
        w = dataclasses.replace(trained, gate_coef=(*trained.gate_coef[:9], side_coef))
        return base().with_weights(w).classify(text).scores["other"]

    private, public, even = "房东扣押金，业主维权没人理", "镇政府干部不理人", "房东说去找政府"
    for text, side in ((private, 1), (public, -1)):
        # the tenth coefficient weighs the side into P(government); no actor word side, no effect
        assert (p_other(text, 2.0) < p_other(text, 0.0)) is (side == 1)
        assert (p_other(text, -2.0) < p_other(text, 0.0)) is (side == -1)
    assert p_other(even, 2.0) == p_other(even, 0.0)
    # files from before the feature: nine coefficients, no actor words, the side ignored
    old = json.loads(trained.dumps())
    old["combine"]["gate_coef"] = old["combine"]["gate_coef"][:9]
    del old["actor_words"]
    nine = LearnedWeights.from_json(old)
    assert base().with_weights(nine).classify(private).domain in DOMAINS
    old["actor_words"] = {"房东": 1}
    with pytest.raises(ValueError, match="actor_words"):
        LearnedWeights.from_json(old)


def test_reliability_bins() -> None:
    bins = reliability([(0.95, True), (0.91, True), (0.15, False), (0.12, True), (1.0, True)])
    assert [(b.low, b.n) for b in bins] == [(0.1, 2), (0.9, 3)]
    assert bins[0].accuracy == 0.5 and bins[1].accuracy == 1.0
    said_high = (0.95 + 0.91 + 1.0) / 3
    assert expected_calibration_error(bins) == pytest.approx((2 * (0.5 - 0.135) + 3 * (1.0 - said_high)) / 5)


# ---------------------------------------------------------------- lexicon train --with-corrections
@pytest.fixture()
def small_cli(monkeypatch, tmp_path):
    """`lexicon train` on the written dev set instead of the whole corpus (fast)."""
    holdout = labelled("complaints_test.jsonl", 4)

    class Row:
        def __init__(self, text, domain):
            self.text, self.domain, self.site, self.script = text, domain, "x", "simplified"

    monkeypatch.setattr(cli, "training_docs", lambda clf, corrections=(): docs() + prepare(
        base(), [(t, d, "corrections") for t, d in corrections], scored=False))
    monkeypatch.setattr(cli, "_split_rows", lambda split, quiet=False: (None, {}, [Row(t, d) for t, d in holdout]))
    monkeypatch.setattr(cli, "train", lambda d, log=print: train(d, QUICK, log=log))
    return tmp_path


def test_train_with_corrections_shows_the_holdout_change_and_writes_only_when_accepted(small_cli, capsys) -> None:
    out = small_cli / "weights.json"
    assert cli.lexicon_train(None, out=out) == 0  # plain training writes
    first = out.read_text(encoding="utf-8")
    corrections = small_cli / "c.jsonl"
    corrections.write_text("\n".join(json.dumps({"text": t, "domain": "statistics"}, ensure_ascii=False) for t in [
        "镇里让我们把产值报高一点，说是上面要的数字", "领导让统计员把产值报高，不然完不成任务",
        "乡里要求虚报产值，把数据做漂亮", "村里的人口数字年年往上报，实际早就没那么多人",
    ]) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.lexicon_train(str(corrections), out=out) == 1
    shown = capsys.readouterr().out
    assert "current -> new" in shown and "macro-F1" in shown and "--accept" in shown
    assert out.read_text(encoding="utf-8") == first  # not written
    assert cli.lexicon_train(str(corrections), accept=True, out=out) == 0
    assert out.read_text(encoding="utf-8") != first
    assert LearnedWeights.load(out).meta["extra_texts"] == {"statistics": 4}


def test_train_rejects_a_bad_corrections_file(small_cli, capsys) -> None:
    bad = small_cli / "bad.jsonl"
    bad.write_text('{"text": "x", "domain": "lottery"}\n', encoding="utf-8")
    assert cli.lexicon_train(str(bad), out=small_cli / "w.json") == 2
    assert not (small_cli / "w.json").exists()


def test_check_without_a_file_reports_on_the_holdout_with_scripts_and_reliability(small_cli, capsys) -> None:
    assert cli.lexicon_check() == 0
    out = capsys.readouterr().out
    for part in ("holdout", "macro-F1", "top-2", "'other' precision", "confusion", "by script", "simplified",
                 "reliability", "ECE"):
        assert part in out, part
