"""Helpers shared by the benchmark scripts: machine description and result output."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def machine() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_texts() -> list[str]:
    texts: list[str] = []
    for name in ("complaints_dev.jsonl", "complaints_test.jsonl"):
        with (DATA / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts


def emit(result: dict, json_path: str | None) -> None:
    """Write the result as JSON for `python -m bench` (the human-readable lines are printed by each script)."""
    if json_path:
        Path(json_path).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


def ensure_importable() -> None:
    """Allow `python bench/x.py` as well as `python -m bench.x`."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
