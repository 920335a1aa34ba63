"""Item 11 of issue 15: the console shows what the bot makes — /stats charts and /report workbooks saved to a
folder with their paths printed, the reply keyboard /start mentions, a bad policy file in one line."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from tests.test_cli import chengxin


def test_console_saves_charts_and_workbooks_and_shows_the_keyboard(tmp_path):
    script = "\n".join([
        "/start",
        "我要投诉",
        "亭湖区住建局拖欠我们工程款380万元，项目2022年底竣工验收，到现在一分钱没给",
        "#1", "#1", "#1", "#1", "#1", "#1", "#1", "#1",
        ":supervisor",
        "/stats",
        "/report",
        ":quit",
    ]) + "\n"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"}
    result = chengxin("console", cwd=tmp_path, stdin=script, env=env)
    assert result.returncode == 0, result.stderr
    assert "[键盘] 我要投诉 | 我的投诉 | 查询进度 | 帮助" in result.stdout
    saved = [Path(p) for p in re.findall(r"已保存：(\S+)", result.stdout)]
    assert any(p.suffix == ".png" for p in saved) and any(p.suffix == ".xlsx" for p in saved), result.stdout
    for path in saved:
        assert path.is_file() and path.parent == (tmp_path / "chengxin-console-out").resolve()
    png = next(p for p in saved if p.suffix == ".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    workbook = load_workbook(next(p for p in saved if p.suffix == ".xlsx"), read_only=True)
    assert "各部门" in workbook.sheetnames


def test_console_refuses_a_bad_policy_file_like_run(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[periods]\naccept_days = 2\nreply_days = -5\n", "utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}", "CHENGXIN_POLICY_FILE": str(policy)}
    console = chengxin("console", cwd=tmp_path, stdin=":quit\n", env=env)
    run = chengxin("run", cwd=tmp_path, env={**env, "TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35})
    assert console.returncode == 2 and "Traceback" not in console.stderr
    assert len(console.stderr.strip().splitlines()) == 1
    assert console.stderr.strip() == run.stderr.strip()
