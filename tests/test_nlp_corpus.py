"""nlp.corpus: the loader's validation and the by-site splits."""

from __future__ import annotations

import json
from pathlib import Path

from nlp.corpus import SPLITS, assign_splits, load_corpus, read_splits, rows_in, site_of, write_splits

TEXT = "区住建局拖欠我们公司的工程款已经三年了，竣工决算早就做完，找了几次都说财政没钱，请领导督促解决"


def row(text: str = TEXT, **changes) -> dict:
    base = {"text": text, "domain": "debt", "domain2": None, "source": "https://www.example.com.cn/a/1.html",
            "source_kind": "news", "script": "simplified"}
    base.update(changes)
    return base


def write(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def test_loader_keeps_good_lines_and_says_why_it_dropped_the_rest(tmp_path) -> None:
    f = write(tmp_path / "part.jsonl", [
        row(),
        "{not json",
        {k: v for k, v in row("另一条足够长的投诉文本，镇政府承诺的补偿款到现在都没有兑现，群众意见很大").items() if k != "source"},
        row("镇政府公开承诺的道路硬化工程到现在都没动工，村民多次反映也没有人管，承诺成了空话", domain="lottery"),
        row("太短了的文本"),
        row("长" * 601),
        # the same complaint again: traditional characters, other punctuation and spaces
        row("區住建局拖欠我們公司的工程款已經三年了 竣工決算早就做完 找了幾次都說財政沒錢 請領導督促解決",
            script="traditional", source="https://news.other.hk/x"),
        row("某街道办承诺的老旧小区改造一直没有兑现，居民反复打电话询问都说在走程序，已经两年了", source="not a url"),
        row("某街道办承诺的老旧小区改造一直没有兑现，居民反复打电话询问都说在走程序，已经三年了",
            domain="township", domain2="township"),
    ])
    loaded = load_corpus([f])
    assert [r.text for r in loaded.rows] == [TEXT]
    reasons = {d.origin.split(":")[1]: d.reason.split(":")[0] for d in loaded.dropped}
    assert reasons == {"2": "malformed", "3": "malformed", "4": "unknown domain", "5": "length", "6": "length",
                       "7": "duplicate", "8": "no source host", "9": "bad domain2"}
    assert "8 dropped" in loaded.summary() and "1 texts kept" in loaded.summary()


def test_a_row_marked_as_another_rows_story_is_set_aside_and_its_line_numbers_stay(tmp_path) -> None:
    followup = "区住建局拖欠的工程款后来又说年底前付清，结果到了年底还是一分没给，公司已经起诉"
    f = write(tmp_path / "part_x.jsonl", [
        row(),
        row(followup, same_story_as="part_x.jsonl:1"),
        row("镇政府公开承诺的道路硬化工程到现在都没动工，村民多次反映也没有人管，承诺成了空话", domain="township"),
        row("街道办答应的老旧小区加装电梯补贴一直没有发放，居民去问了好几次都说在等资金",
            domain="township", same_story_as="part_x.jsonl:7"),  # names no row: dropped, not silently kept
    ])
    loaded = load_corpus([f])
    assert [r.origin for r in loaded.rows] == ["part_x.jsonl:1", "part_x.jsonl:3"]  # the third line is still :3
    assert [(d.origin, d.reason) for d in loaded.set_aside] == [("part_x.jsonl:2", "same story as part_x.jsonl:1")]
    assert [d.origin for d in loaded.dropped] == ["part_x.jsonl:4"]
    assert "not a kept row" in loaded.dropped[0].reason
    assert "1 set aside as the same story as another row" in loaded.summary()


def test_a_row_a_reader_found_not_to_be_a_complaint_is_set_aside_with_the_reason(tmp_path) -> None:
    commentary = "有的干部把信访件视为烫手山芋，能推就推，能拖就拖，这种踢皮球现象必须整治"
    f = write(tmp_path / "part_x.jsonl", [
        row(),
        row(commentary, domain="conduct", not_a_complaint="commentary: names no body or case (rule 10)"),
        row("镇政府公开承诺的道路硬化工程到现在都没动工，村民多次反映也没有人管，承诺成了空话", domain="township"),
    ])
    loaded = load_corpus([f])
    assert [r.origin for r in loaded.rows] == ["part_x.jsonl:1", "part_x.jsonl:3"]
    assert commentary not in [r.text for r in loaded.rows] and not loaded.dropped
    assert [(d.origin, d.reason) for d in loaded.set_aside] == [
        ("part_x.jsonl:2", "not a complaint: commentary: names no body or case (rule 10)")]
    assert "1 set aside as not a complaint" in loaded.summary() and "same story" not in loaded.summary()


def test_pinyin_glosses_of_mirror_sites_are_removed(tmp_path) -> None:
    f = write(tmp_path / "p.jsonl", [row("一家公司在四川問(wèn)政平臺(tái)公開向農(nóng)業(yè)農(nóng)村局催要項(xiàng)目欠款，稱合同早已履行完畢",
                                        script="traditional")])
    loaded = load_corpus([f])
    assert loaded.cleaned == 1 and "(" not in loaded.rows[0].text and "問政平臺" in loaded.rows[0].text


def test_site_is_the_registrable_host() -> None:
    assert site_of("https://news.163.com/a") == site_of("http://www.163.com/b") == "163.com"
    assert site_of("http://epaper.qingdaonews.com/x") == "qingdaonews.com"
    assert site_of("https://liuyan.people.com.cn/threads") == "people.com.cn"
    assert site_of("https://www.news.gov.hk/chi/x.html") == "news.gov.hk"
    assert site_of("not a url") is None


def _rows(tmp_path: Path, n_sites: int, start: int = 0):
    lines = []
    domains = ["debt", "other", "conduct", "township"]
    for i in range(start, start + n_sites):
        for j in range(3):
            lines.append(row(f"{TEXT}（第{i}站第{j}条，内容各不相同）", domain=domains[(i + j) % 4],
                             source=f"https://site{i}.example{i}.com/{j}",
                             script="traditional" if i % 5 == 0 else "simplified"))
    return load_corpus([write(tmp_path / f"c{start}.jsonl", lines)]).rows


def test_splits_never_share_a_site_and_are_deterministic(tmp_path) -> None:
    rows = _rows(tmp_path, 40)
    first = assign_splits(rows)
    assert first == assign_splits(list(reversed(rows)))  # independent of order
    assert set(first.values()) == set(SPLITS)
    for split in SPLITS:
        others = {r.site for s in SPLITS if s != split for r in rows_in(rows, first, s)}
        assert not {r.site for r in rows_in(rows, first, split)} & others
    train = len(rows_in(rows, first, "train"))
    assert 0.45 * len(rows) <= train <= 0.75 * len(rows)


def test_adding_texts_never_moves_a_recorded_site(tmp_path) -> None:
    old = _rows(tmp_path, 30)
    recorded = assign_splits(old)
    write_splits(recorded, tmp_path / "splits.json")
    assert read_splits(tmp_path / "splits.json") == recorded
    grown = assign_splits(old + _rows(tmp_path, 20, start=30), read_splits(tmp_path / "splits.json"))
    assert all(grown[site] == split for site, split in recorded.items())
    assert len(grown) == 50


def test_the_shipped_corpus_loads_whole_meets_the_floor_and_every_site_has_one_split() -> None:
    # what a collection round must leave behind: no line the loader drops, every site recorded in
    # splits.json (so `lexicon check` reads a fixed holdout), and the floor per domain and script
    loaded = load_corpus()
    assert loaded.dropped == []  # and so every row set aside names a row that keeps its story
    splits = read_splits()
    assert {r.site for r in loaded.rows} <= set(splits)
    assert set(splits.values()) <= set(SPLITS)
    by_domain = {d: sum(r.domain == d for r in loaded.rows) for d in {r.domain for r in loaded.rows}}
    assert len(loaded.rows) >= 800 and by_domain["other"] >= 150
    assert min(by_domain.values()) >= 40 and len(by_domain) == 10
    assert sum(r.script == "traditional" for r in loaded.rows) >= 60
    for split in SPLITS:  # every domain and both scripts reach every split
        rows = rows_in(loaded.rows, splits, split)
        assert len({r.domain for r in rows}) == 10 and {r.script for r in rows} == {"simplified", "traditional"}
