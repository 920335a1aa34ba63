"""`chengxin run` sets the garbage collector for a process of its own; tests' processes are left alone."""

from __future__ import annotations

import gc
import subprocess
import sys

from bot.gc_tuning import OLDER_THRESHOLDS, YOUNG_THRESHOLD


def test_settling_freezes_what_start_up_left_and_raises_the_thresholds():
    script = ("import gc, json\n"
              "from nlp import Classifier\n"
              "Classifier.default().classify('区政府拖欠工程款')\n"  # a start-up's worth of objects
              "from bot.gc_tuning import settle_after_start\n"
              "before = gc.get_freeze_count()\n"
              "settle_after_start()\n"
              "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold()]))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    before, frozen, threshold = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    assert before == 0 and frozen > 10_000
    assert threshold == [YOUNG_THRESHOLD, *OLDER_THRESHOLDS]


def test_chengxin_run_serves_as_a_process_of_its_own(monkeypatch, tmp_path):
    import bot.__main__ as main_module
    import bot.logs
    import bot.web.server

    seen = {}

    async def serve(application, settings, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(bot.web.server, "serve", serve)
    monkeypatch.setattr(bot.logs, "configure_logging", lambda *args, **kwargs: None)  # the test run's logging stays
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ")
    assert gc.get_freeze_count() == 0  # this test process was never settled
    main_module.main(["run"])
    assert seen.get("own_process") is True
