"""bot.cli_lexicon: `chengxin lexicon check` / `lexicon suggest` as functions."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli_lexicon import lexicon_check, lexicon_suggest


def write(path: Path, rows) -> str:
    path.write_text("\n".join(json.dumps({"text": t, "domain": d}, ensure_ascii=False) for t, d in rows) + "\n",
                    encoding="utf-8")
    return str(path)


def test_check_prints_the_report(tmp_path, capsys) -> None:
    f = write(tmp_path / "l.jsonl", [("区住建局拖欠我们工程款800万", "debt"), ("楼下饭店半夜太吵", "other"),
                                     ("窗口工作人员踢皮球", "conduct")])
    assert lexicon_check(f) == 0
    out = capsys.readouterr().out
    assert "examples 3" in out and "accuracy 1.000" in out and "macro-F1" in out and "confusion" in out


def test_check_bad_input_returns_2(tmp_path, capsys) -> None:
    assert lexicon_check(str(tmp_path / "missing.jsonl")) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "domain": "lottery"}\n', encoding="utf-8")
    assert lexicon_check(str(bad)) == 2
    assert "lottery" in capsys.readouterr().err
    bad.write_text("not json\n", encoding="utf-8")
    assert lexicon_check(str(bad)) == 2


def test_suggest_prints_candidates_with_effect(tmp_path, capsys) -> None:
    corr = write(tmp_path / "c.jsonl", [
        ("局里那几个人就是甩手掌柜，群众的事情一概不问", "conduct"),
        ("找到单位，负责的人当甩手掌柜，说这事跟他没关系", "conduct"),
        ("这些人当甩手掌柜当惯了，交上去的申请没人看", "conduct"),
    ])
    lab = write(tmp_path / "l.jsonl", [("所里的人都是甩手掌柜，报上去的事没有下文", "conduct"),
                                       ("区住建局拖欠我们工程款800万", "debt"), ("楼下饭店半夜太吵", "other")])
    assert lexicon_suggest(corr, lab, "conduct") == 0
    out = capsys.readouterr().out
    assert "甩手掌柜" in out and "->" in out
    assert lexicon_suggest(corr, lab, "nonsense") == 2
