"""Tests for nlp.departments and the shipped bot/data/departments.csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp import DepartmentEntry, DepartmentMatcher, DepartmentMention

CSV = Path(__file__).resolve().parents[1] / "bot" / "data" / "departments.csv"
REGIONS = {"city", "tinghu", "yandu", "dafeng", "dongtai", "jianhu", "sheyang", "funing", "binhai", "xiangshui"}

_M: DepartmentMatcher | None = None


def matcher() -> DepartmentMatcher:
    global _M
    if _M is None:
        _M = DepartmentMatcher(DepartmentMatcher.load_csv(CSV))
    return _M


def codes(text: str) -> list[str]:
    return [m.code for m in matcher().find(text)]


def test_csv_shape() -> None:
    entries = DepartmentMatcher.load_csv(CSV)
    assert 90 <= len(entries) <= 140
    by_code = {e.code: e for e in entries}
    assert len(by_code) == len(entries)
    for e in entries:
        assert e.region in REGIONS, e
        assert e.kind in {"municipal", "district", "bureau", "township", "street", "enterprise"}, e
        assert e.code.isascii() and " " not in e.code
        if e.kind != "municipal":
            assert e.parent in by_code, e
    for region in REGIONS - {"city"}:
        assert f"{region}-gov" in by_code
    assert {"city-czj", "city-zjj", "city-fgw", "city-tjj", "city-ggzy", "city-zy", "tinghu-wenfeng"} <= set(by_code)


def test_find_specific_bureau() -> None:
    ms = matcher().find("亭湖区住建局拖欠我们工程款")
    assert [m.code for m in ms] == ["tinghu-zjj"]
    m = ms[0]
    assert isinstance(m, DepartmentMention)
    assert (m.matched, m.start, m.name) == ("亭湖区住建局", 0, "亭湖区住房和城乡建设局")


def test_ambiguous_alias_returns_all_candidates() -> None:
    found = codes("住建局一直拖着不给钱")
    assert "city-zjj" in found and "tinghu-zjj" in found and "jianhu-zjj" in found
    assert len(found) == len(set(found))  # deduplicated by code
    # 区住建局: only district-level bureaus, not the city's or a county's
    found = codes("区住建局拖欠工程款")
    assert set(found) == {"tinghu-zjj", "yandu-zjj", "dafeng-zjj"}


def test_region_in_text_narrows_ambiguous_alias() -> None:
    found = codes("盐都区的住建局不给钱")
    assert found[0] == "yandu-zjj"
    assert "tinghu-zjj" not in found and "city-zjj" not in found


def test_longest_earliest_first_and_several_departments() -> None:
    found = codes("大冈镇政府说找市财政局，市财政局说找镇里")
    assert found == ["yandu-dagang", "city-czj"]
    ms = matcher().find("先找了文峰街道办，又找了盐城市住建局")
    assert [m.code for m in ms][:2] == ["city-zjj", "tinghu-wenfeng"]  # longer match first


def test_traditional_and_offsets() -> None:
    ms = matcher().find("我們去了市發改委")
    assert ms[0].code == "city-fgw"
    assert ms[0].matched == "市發改委" and ms[0].start == 4


def test_no_mention() -> None:
    assert matcher().find("楼上邻居太吵了") == []
    assert matcher().find("") == []


def test_search_exact_alias_substring_and_overlap() -> None:
    m = matcher()
    assert m.search("盐城市财政局")[0].code == "city-czj"  # exact name
    assert m.search("发改委")[0].code == "city-fgw"  # alias
    assert m.search("文峰")[0].code == "tinghu-wenfeng"  # substring
    assert m.search("亭湖住建")[0].code == "tinghu-zjj"
    hits = [e.code for e in m.search("住建", limit=20)]  # character overlap with 住房和城乡建设局
    assert "city-zjj" in hits and "tinghu-zjj" in hits
    assert len(m.search("住建局", limit=3)) == 3
    assert m.search("") == [] and m.search("火星移民局") == []


def test_constructor_and_csv_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        DepartmentMatcher([DepartmentEntry("a", "甲局"), DepartmentEntry("a", "乙局")])
    bad = tmp_path / "d.csv"
    bad.write_text("code,name,kind,parent,region\nx,某局,bureau,,city\n", encoding="utf-8")
    with pytest.raises(ValueError, match="aliases"):
        DepartmentMatcher.load_csv(bad)
    ok = tmp_path / "ok.csv"
    ok.write_text("code,name,kind,parent,region,aliases\nx,某某局,bureau,,city,某局| 某局 |X局\n", encoding="utf-8")
    (e,) = DepartmentMatcher.load_csv(ok)
    assert e.aliases == ("某局", "X局")
    plain = DepartmentMatcher([DepartmentEntry("t", "测试局", ("测局",))])
    assert [m.code for m in plain.find("去测局办事")] == ["t"]
