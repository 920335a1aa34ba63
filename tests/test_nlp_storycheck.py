"""nlp.storycheck: the same story found as a trimmed copy (5-grams) and in other words (rare names)."""

from __future__ import annotations

import json

from nlp.storycheck import candidates, main

ARREARS = "当初通过招商引资去建污水处理厂，没想到自2020年以来被拖欠数十个月污水处理费，临颍县政府长期拖欠，总金额逾1亿元"
LAWSUIT = "河南一桩因拖欠污水处理费引发的官司受到关注，康达公司一纸诉状将临颍县政府告上法庭，称临颍县城区污水处理费欠了五年"
NOISE = "小区楼下的烧烤店每天营业到凌晨两点，油烟和噪音让居民无法休息，多次打电话给物业都没有用"
OTHER_TOWN = "某县城关镇的路灯坏了半年没人修，晚上出门很不方便，希望有关部门尽快安排维修"


def test_a_trimmed_copy_and_the_same_event_in_other_words_are_flagged_and_others_not() -> None:
    corpus = [("part_a.jsonl:1", ARREARS), ("part_a.jsonl:2", NOISE), ("part_a.jsonl:3", OTHER_TOWN)]
    new = [("new.jsonl:1", NOISE[:40]),  # the same text, trimmed
           ("new.jsonl:2", LAWSUIT),  # the same county's arrears, another outlet's words
           ("new.jsonl:3", "我家门口的下水道堵了一个月，臭气熏天，街道说不归他们管，自来水公司也说不归他们管")]
    pairs = {(p.new, p.other): p for p in candidates(corpus, new)}
    assert set(pairs) == {("new.jsonl:1", "part_a.jsonl:2"), ("new.jsonl:2", "part_a.jsonl:1")}
    assert pairs["new.jsonl:1", "part_a.jsonl:2"].overlap == 1.0
    lawsuit = pairs["new.jsonl:2", "part_a.jsonl:1"]
    assert lawsuit.overlap < 0.25 and lawsuit.rare >= 4 and "临颍县" in lawsuit.shared


def test_new_rows_are_compared_with_each_other_and_traditional_folds_to_simplified() -> None:
    new = [("n.jsonl:1", NOISE), ("n.jsonl:2", "小區樓下的燒烤店每天營業到凌晨兩點，油煙和噪音讓居民無法休息")]
    [pair] = candidates([("part_a.jsonl:1", OTHER_TOWN)], new)
    assert (pair.new, pair.other) == ("n.jsonl:2", "n.jsonl:1") and pair.overlap > 0.9


def test_the_command_prints_pairs_against_the_shipped_corpus(tmp_path, capsys) -> None:
    from nlp.corpus import load_corpus

    row = load_corpus().rows[0]
    path = tmp_path / "candidates.jsonl"
    path.write_text(json.dumps({"text": row.text[:120]}, ensure_ascii=False) + "\n"
                    + json.dumps({"text": NOISE, "source": row.source}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main([str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"=== candidates.jsonl:1  vs  {row.origin}  5-gram overlap" in out
    assert f"=== candidates.jsonl:2  vs  {row.origin}  same page, " in out  # another text from the row's page


def test_a_row_from_a_page_the_corpus_already_copied_is_flagged_whatever_its_words() -> None:
    # the eighth round's same-page review: a case and its follow-up on one page share neither text nor names
    corpus = [("part_a.jsonl:1", ARREARS), ("part_a.jsonl:2", NOISE)]
    new = [("new.jsonl:1", OTHER_TOWN), ("new.jsonl:2", "我家门口的下水道堵了一个月，臭气熏天，街道说不归他们管")]
    pages = {"part_a.jsonl:1": "https://www.example.cn/news/1.html", "part_a.jsonl:2": "https://example.cn/news/2.html",
             "new.jsonl:1": "http://example.cn/news/1.html#comments",  # the same page: scheme, www, fragment aside
             "new.jsonl:2": "https://example.cn/news/3.html"}
    [pair] = candidates(corpus, new, pages)
    assert (pair.new, pair.other, pair.same_page) == ("new.jsonl:1", "part_a.jsonl:1", True)
    assert pair.overlap == 0.0 and pair.rare == 0
    assert candidates(corpus, new) == []  # without addresses only the texts are compared
