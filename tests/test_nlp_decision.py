"""The explanation's merge of lexicon terms and learned tokens (nlp.decision._merge_terms)."""

from __future__ import annotations

from nlp.decision import MAX_LEARNED_TERMS, _merge_terms


def test_learned_tokens_join_the_terms_in_order_of_first_appearance() -> None:
    norm = "镇政府拖欠工程款三年,包工头多次讨薪"
    merged = _merge_terms(norm, ["拖欠"], [(0.9, "讨薪"), (1.2, "镇政府")])
    assert merged == ["镇政府", "拖欠", "讨薪"]


def test_a_token_overlapping_a_shown_term_is_not_repeated() -> None:
    norm = "区住建局拖欠工程款"
    # 工程款 is inside the lexicon's 拖欠工程款; 住建 is inside the learned 住建局, which came first
    merged = _merge_terms(norm, ["拖欠工程款"], [(2.0, "工程款"), (1.5, "住建局"), (1.0, "住建")])
    assert merged == ["住建局", "拖欠工程款"]


def test_at_most_four_learned_tokens_the_hardest_pushes_and_ties_by_token() -> None:
    norm = "甲乙丙丁戊己"
    pushed = [(1.0, "己"), (1.0, "戊"), (3.0, "甲"), (2.0, "乙"), (1.0, "丁"), (0.8, "丙")]
    merged = _merge_terms(norm, [], pushed)
    assert len(merged) == MAX_LEARNED_TERMS == 4
    # 甲 3.0, 乙 2.0, then of the three at 1.0 the two smallest tokens (丁 < 己 < 戊 by code point)
    assert set(merged) == {"甲", "乙", "丁", "己"} and merged == ["甲", "乙", "丁", "己"]


def test_nothing_learned_added_leaves_the_lexicon_terms_as_they_were() -> None:
    assert _merge_terms("拖欠工程款", ["工程款", "拖欠"], [(1.0, "拖欠工程")]) == ["工程款", "拖欠"]


def test_a_term_not_in_the_text_goes_last() -> None:
    # a lexicon term shown as written in the lexicon can differ from the normalised text
    assert _merge_terms("县府积欠包商款项", ["县政府"], [(1.0, "积欠")]) == ["积欠", "县政府"]
