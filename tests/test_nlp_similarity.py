"""nlp.similarity: MinHash fingerprints, the LSH index, exact Jaccard."""

from __future__ import annotations

import pytest

from nlp import Classifier
from nlp.similarity import NUM_BINS, Fingerprint, SimilarityIndex, shingles, similarity

ORIGINAL = "我们公司给区住建局做的道路工程，2022年底竣工验收，工程款380万元拖了两年一分没给，找了好几次都说财政没钱"
REFILED = "我们公司给区住建局做的道路工程，2022年底就竣工验收了，380万工程款拖了两年一分没给，找了好几次都说财政没钱！"
OTHERS = [
    "开发区管委会招商时承诺的税收返还和奖补资金，换届以后一分没兑现",
    "街道办公开承诺的老小区改造没兑现，财务也从不公开",
    "窗口工作人员推诿扯皮，办个事跑了五趟，还暗示要好处费",
    "楼下饭店噪音太大，每天半夜还在吵，路灯也坏了",
    "我们公司给市教育局供的课桌椅验收合格了，采购人拖欠货款半年，履约保证金也不退",
    "区住建局的道路工程招标，几家公司围标串标，招标文件还是量身定做的",
]


_CLF = Classifier.default()


def tok(text: str) -> list[str]:
    return _CLF.tokenize(text)


def test_exact_jaccard_by_hand() -> None:
    # {甲,乙,丙,甲乙,乙丙} vs {甲,乙,丁,甲乙,乙丁}: 3 shared of 7
    assert similarity(["甲", "乙", "丙"], ["甲", "乙", "丁"]) == pytest.approx(3 / 7)
    assert similarity(["甲", "，", "乙"], ["甲", "乙"]) == 1.0  # punctuation ignored
    assert similarity([], []) == 1.0
    assert "甲 乙" in shingles(["甲", "乙"])


def test_fingerprint_estimates_jaccard_and_round_trips() -> None:
    a, b = tok(ORIGINAL), tok(REFILED)
    fa, fb = Fingerprint.of(a), Fingerprint.of(b)
    assert len(fa.values) == NUM_BINS
    assert abs(fa.similarity(fb) - similarity(a, b)) < 0.2
    assert Fingerprint.from_bytes(fa.to_bytes()) == fa
    assert Fingerprint.of(a) == fa  # stable
    assert fa.similarity(Fingerprint.of(tok(OTHERS[3]))) < 0.2


def build() -> SimilarityIndex:
    idx = SimilarityIndex(tokenizer=tok)
    idx.add("orig", ORIGINAL, group="tinghu-zjj")
    for i, t in enumerate(OTHERS):
        idx.add(f"o{i}", t, group="tinghu-zjj" if i % 2 else "city-czj")
    return idx


def test_refiled_complaint_is_found_and_a_different_one_is_not() -> None:
    idx = build()
    assert len(idx) == 7 and "orig" in idx
    hits = idx.query(REFILED, threshold=0.5)
    assert [k for k, _ in hits] == ["orig"]
    assert hits[0][1] >= 0.5
    # a different complaint about the same bureau and the same kind of road works
    assert idx.query(OTHERS[5], threshold=0.5, exclude="o5") == []
    assert idx.query("小区门口的马路坑坑洼洼的，晚上骑电动车好几个人摔了", threshold=0.3) == []


def test_group_restricts_the_comparison() -> None:
    idx = build()
    assert [k for k, _ in idx.query(REFILED, group="tinghu-zjj")] == ["orig"]
    assert idx.query(REFILED, group="city-czj") == []


def test_remove_and_readd() -> None:
    idx = build()
    assert idx.remove("orig") is True and idx.remove("orig") is False
    assert idx.query(REFILED) == [] and len(idx) == 6
    fp = idx.add("orig", tok(ORIGINAL), group="x")  # tokens accepted too
    assert idx.query(REFILED, group="x")[0][0] == "orig"
    idx.add("orig", fp, group="y")  # re-adding replaces (fingerprint accepted)
    assert idx.query(REFILED, group="x") == [] and len(idx) == 7


def test_empty_text() -> None:
    idx = build()
    assert idx.query("，。！") == []


@pytest.mark.parametrize("padding", [("", ""), ("  ", "\n"), ("\r\n", " \t"), ("\u3000", "\u3000\r\n"), (" \n ", "")])
@pytest.mark.parametrize("text", [ORIGINAL, REFILED, *OTHERS, "甲 乙\r\n丙\t丁 ABC abc 123"])
def test_triage_keeps_the_fingerprint_of_the_stripped_text_from_its_one_segmentation(text, padding) -> None:
    # What a draft keeps (triage of the typed text) is what the case would get from its stripped text.
    from bot.domain.triage import Triager

    triager = Triager(_CLF, [])
    typed = padding[0] + text + padding[1]
    result = triager.triage(typed)
    assert result.fingerprint() == triager.fingerprint(typed.strip())
    assert result.classification == _CLF.classify(typed)  # the shared segmentation changes no verdict
