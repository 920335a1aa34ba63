"""The `chengxin` command as an operator or lexicon maintainer uses it (real processes, no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import DOMAINS


def chengxin(*args: str, cwd: Path, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CHENGXIN_", "DATABASE_"))}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=environment, timeout=120)


@pytest.mark.parametrize("token", ["", "changeme", "not-a-token"])
def test_run_without_a_real_token_explains_in_one_line(tmp_path, token):
    result = chengxin("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": token})
    assert result.returncode == 2
    assert "BotFather" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_setting_is_named(tmp_path):
    result = chengxin("db", "upgrade", cwd=tmp_path, env={"CHENGXIN_TIMEZONE": "Mars/Olympus"})
    assert result.returncode != 0 and "CHENGXIN_TIMEZONE" in result.stderr and "Traceback" not in result.stderr


def test_classify_prints_one_json_object_per_line(tmp_path):
    complaints = "亭湖区住建局拖欠我们工程款380万元，两年了一分没给\n\n楼下烧烤店每天晚上噪音太大，吵得睡不着觉\n"
    result = chengxin("classify", cwd=tmp_path, stdin=complaints)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert set(line) == {"domain", "confidence", "scores", "terms", "departments"}
        assert set(line["scores"]) == set(DOMAINS) and 0 <= line["confidence"] <= 1
    assert lines[0]["domain"] == "debt" and "工程款" in lines[0]["terms"]
    assert "亭湖区住房和城乡建设局" in lines[0]["departments"]
    assert lines[1]["domain"] == "other"


def test_db_upgrade_departments_import_and_audit_verify(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    assert chengxin("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    good = tmp_path / "good.csv"
    good.write_text("code,name,kind,parent,region,aliases\nxx-czj,某某县财政局,bureau,,xx,某某财政局\n", "utf-8")
    imported = chengxin("departments", "import", str(good), cwd=tmp_path, env=env)
    assert imported.returncode == 0 and "新增 1 个部门" in imported.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,kind,parent,region,aliases\nyy,,bureau,,yy,\n", "utf-8")
    refused = chengxin("departments", "import", str(bad), cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "第 2 行" in refused.stderr
    verified = chengxin("audit", "verify", cwd=tmp_path, env=env)
    assert verified.returncode == 0 and "0 broken" in verified.stdout


def test_console_files_a_complaint_without_telegram(tmp_path):
    script = "\n".join([
        "/start",
        "我要投诉",
        "亭湖区住建局拖欠我们工程款380万元，项目2022年底竣工验收，到现在一分钱没给",
        "#1",  # 是，地方政府债务
        "#1",  # the first department recognised
        "#1",  # 跳过: project or contract name
        "#1",  # ✅ 正确: 380万元 found in the text
        "#1",  # ✅ 正确: 2022年底
        ":photo 验收单",
        "#1",  # 完成
        "#1",  # 同意联系
        "#1",  # 确认提交
        ":supervisor",
        "/cases",
        ":quit",
    ]) + "\n"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"}
    result = chengxin("console", cwd=tmp_path, stdin=script, env=env)
    assert result.returncode == 0, result.stderr
    assert "已立案" in result.stdout
    assert "共 1 件" in result.stdout


def test_a_bad_policy_file_stops_the_start_naming_the_line(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[periods]\naccept_days = 2\nreply_days = -5\n", "utf-8")
    result = chengxin("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35,
                                                 "CHENGXIN_POLICY_FILE": str(policy)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "reply_days" in result.stderr and "line 3" in result.stderr
    policy.write_text("[periods]\nsurprise = 1\n", "utf-8")
    result = chengxin("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35,
                                                 "CHENGXIN_POLICY_FILE": str(policy)})
    assert result.returncode == 2 and "surprise" in result.stderr
