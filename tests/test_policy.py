"""The policy file: the shipped defaults, and refusals that name the key and the line."""

from __future__ import annotations

from dataclasses import fields
from datetime import time
from pathlib import Path

import pytest

from bot.policy import DEFAULT_POLICY_FILE, FILE_KEYS, Policy, PolicyError, load_policy


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_default_file_equals_dataclass_defaults():
    assert load_policy() == Policy()
    assert load_policy(DEFAULT_POLICY_FILE) == Policy()


def test_defaults_are_the_documented_ones():
    p = Policy()
    assert (p.accept_days, p.reply_days, p.rectification_days, p.assign_days) == (2, 10, 30, 2)
    assert (p.follow_up_days, p.reopen_window_days) == (7, 15)
    assert p.ladder_before == (3, 1) and p.remind_on_due_day and p.overdue_every_working_day
    assert p.send_time == time(9, 0)
    assert (p.quiet_start, p.quiet_end) == (time(21, 0), time(8, 0))
    assert (p.escalate_head_after, p.escalate_supervisors_after) == (3, 5)
    assert (p.morning_digest, p.supervisor_digest) == (time(9, 0), time(9, 30))
    assert p.auto_assign and p.auto_assign_min_confidence == 0.95
    assert (p.max_send_attempts, p.retry_base_seconds) == (5, 30)


def test_default_file_sets_every_key():
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    for table, key in FILE_KEYS:
        assert f"[{table}]" in text and f"\n{key} = " in text, (table, key)
    assert {f for f, _ in FILE_KEYS.values()} == {f.name for f in fields(Policy)}


def test_values_are_read(tmp_path):
    path = write(tmp_path, """
[periods]
reply_days = 15
[reminders]
before_due_days = [1, 5, 2]
on_due_day = false
send_time = 08:30:00
[quiet_hours]
start = "22:00"
end = "7:30"
[escalation]
head_after_days = 2
supervisors_after_days = 2
[assignment]
min_confidence = 1
""")
    p = load_policy(path)
    assert p.reply_days == 15 and p.accept_days == 2  # the rest keep their defaults
    assert p.ladder_before == (5, 2, 1)
    assert p.remind_on_due_day is False
    assert p.send_time == time(8, 30)
    assert (p.quiet_start, p.quiet_end) == (time(22, 0), time(7, 30))
    assert p.escalate_head_after == p.escalate_supervisors_after == 2
    assert p.auto_assign_min_confidence == 1.0


def test_empty_file_is_all_defaults(tmp_path):
    assert load_policy(write(tmp_path, "# nothing\n")) == Policy()


def test_dotted_keys_at_top_level(tmp_path):
    assert load_policy(write(tmp_path, "periods.reply_days = 12\n")).reply_days == 12


@pytest.mark.parametrize("body, key, line", [
    # unknown key
    ("[periods]\naccept_days = 2\nreply_day = 10\n", "reply_day", 3),
    # unknown table
    ("# x\n\n[period]\nreply_days = 10\n", "period", 3),
    # unknown top-level key
    ("reply_days = 10\n", "reply_days", 1),
    # negative or zero periods
    ("[periods]\n# comment\nreply_days = -5\n", "reply_days", 3),
    ("[periods]\nassign_days = 0\n", "assign_days", 2),
    ("[escalation]\nhead_after_days = 0\n", "head_after_days", 2),
    ("[delivery]\nretry_base_seconds = -1\n", "retry_base_seconds", 2),
    # wrong types
    ("[periods]\nreply_days = \"10\"\n", "reply_days", 2),
    ("[periods]\nreply_days = 1.5\n", "reply_days", 2),
    ("[periods]\nreply_days = true\n", "reply_days", 2),
    ("[reminders]\non_due_day = \"yes\"\n", "on_due_day", 2),
    ("[reminders]\nbefore_due_days = 3\n", "before_due_days", 2),
    ("[reminders]\nbefore_due_days = [3, 0]\n", "before_due_days", 2),
    ("[reminders]\nbefore_due_days = [3, 3]\n", "before_due_days", 2),
    ("[periods]\nreply_days = 10\n[quiet_hours]\nstart = 21\n", "start", 4),
    # bad times
    ("[reminders]\nsend_time = \"25:00\"\n", "send_time", 2),
    ("[quiet_hours]\nstart = \"21:00\"\nend = \"8h\"\n", "end", 3),
    ("[digests]\nmorning = \"09:60\"\n", "morning", 2),
    # confidence outside 0..1
    ("[assignment]\nmin_confidence = 1.5\n", "min_confidence", 2),
    ("[assignment]\nmin_confidence = -0.1\n", "min_confidence", 2),
    # supervisors before the head
    ("[escalation]\nhead_after_days = 5\n\nsupervisors_after_days = 3\n", "supervisors_after_days", 4),
    ("[escalation]\nhead_after_days = 7\n", "supervisors_after_days", 1),
    # a table that is not a table
    ("periods = 3\n", "periods", 1),
])
def test_refusals_name_key_and_line(tmp_path, body, key, line):
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, body))
    err = info.value
    assert key in str(err) and f"line {line}" in str(err), str(err)
    assert err.line == line and key in err.key


def test_policy_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        load_policy(write(tmp_path, "[periods]\nreply_days = 0\n"))


def test_invalid_toml_names_the_line(tmp_path):
    with pytest.raises(PolicyError, match="line 3"):
        load_policy(write(tmp_path, "[periods]\nreply_days = 10\nreply_days = \n"))


def test_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="nope.toml"):
        load_policy(tmp_path / "nope.toml")


def test_policy_is_frozen():
    with pytest.raises(AttributeError):
        Policy().reply_days = 3  # type: ignore[misc]
