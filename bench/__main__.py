"""`python -m bench`: run every benchmark in turn (each in its own process) and print a summary table.

`python -m bench NAME …` runs only those. Options: --quick (smaller runs, for a smoke test), --postgres URL (also file complaints against
PostgreSQL), --only NAME[,NAME] (classify, filings, idle_memory, sweep, sending, latency), --json FILE (all results).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ("classify", "filings", "idle_memory", "sweep", "sending", "latency")
TIMEOUT_S = {"classify": 300, "filings": 900, "idle_memory": 180, "sweep": 900, "sending": 900, "latency": 1800}


def _rows(name: str, r: dict) -> list[tuple[str, str, str, str]]:
    def ok(flag: bool) -> str:
        return "MET" if flag else "NOT MET"

    if name == "classify":
        return [
            ("classify", "classifier throughput", f"{r['classifier_texts_per_s']:,.0f} texts/s", ""),
            ("classify", "bare jieba.lcut throughput", f"{r['jieba_texts_per_s']:,.0f} texts/s", ""),
            ("classify", "classifier / jieba time", f"{r['ratio']:.2f}x", f"<= 1.5x: {ok(r['target_met'])}"),
        ]
    if name == "filings":
        rows = []
        for backend in ("sqlite", "postgresql"):
            if backend in r:
                c = r[backend]
                rows += [
                    ("filings", f"filings/s ({backend})", f"{c['filings_per_s']:,.1f}",
                     f">= 100: {ok(c['target_met'])}" if backend == "sqlite" else ""),
                    ("filings", f"updates/s ({backend})", f"{c['updates_per_s']:,.0f}", ""),
                    ("filings", f"per update ({backend})", f"{c['ms_per_update']:.2f} ms", ""),
                    ("filings", f"chengxin / echo per update ({backend})", f"{c['ratio_to_echo']:.1f}x", ""),
                ]
        rows.append(("filings", "echo bot per update", f"{r['echo']['ms_per_update']:.3f} ms", ""))
        for kind, f in r.get("floor", {}).items():
            rows.append(("filings", f"floor, storage {kind}: per update / ceiling",
                         f"{f['ms_per_update']:.2f} ms / {f['ceiling_filings_per_s']:,.0f} filings/s", ""))
        return rows
    if name == "idle_memory":
        return [
            ("idle_memory", "chengxin run VmRSS peak", f"{r['rss_peak_mb']:.1f} MB",
             f"< 200 MB: {ok(r['target_met'])}"),
            ("idle_memory", "chengxin run VmRSS last", f"{r['rss_last_mb']:.1f} MB", ""),
        ] + ([
            ("idle_memory", "VmRSS after one complaint", f"{r['rss_after_complaint_peak_mb']:.1f} MB", ""),
            ("idle_memory", "first complaint answered in", f"{r['first_complaint_reply_s']:.2f} s", ""),
        ] if "rss_after_complaint_peak_mb" in r else [])
    if name == "sweep":
        rows = []
        for backend in ("sqlite", "postgresql"):
            if backend in r:
                c = r[backend]
                rows += [
                    ("sweep", f"claim {r['due']:,} of {r['obligations']:,} ({backend})", f"{c['claim_ms']['median']:,.0f} ms",
                     f"< 200 ms: {ok(c['target_met'])}" if backend == "postgresql" else ""),
                    ("sweep", f"claim SELECT alone ({backend})", f"{c['select_ms']['median']:,.0f} ms", ""),
                    ("sweep", f"dispatch, {c['digests']} digests ({backend})", f"{c['dispatch_ms']['median']:,.0f} ms", ""),
                    ("sweep", f"delivery per digest ({backend})", f"{c['delivery_per_message_ms']:.1f} ms", ""),
                ]
                if backend == "postgresql":
                    rows.append(("sweep", "claim uses ix_reminders_state_send_at", str(c["index_used"]), ""))
        return rows
    if name == "sending":
        return [
            ("sending", f"sustained, {r['sent']}/{r['messages']} messages", f"{r.get('sustained_per_s') or 0:.1f} msg/s",
             f">= 27: {ok(r['rate_target_met'])}"),
            ("sending", "429 answers", str(r["responses_429"]), f"0: {ok(r['zero_429_met'])}"),
        ]
    if name == "latency":
        rows = []
        for run in r["runs"]:
            if "profile" in run:
                continue
            label = f"{run['bot']}, {run['rtt_ms']:g} ms, {run['citizens']} citizens"
            rate = f"{run['filings_per_s']:.1f} filings/s" if "filings_per_s" in run else f"{run['updates_per_s']:.0f} updates/s"
            rows.append(("latency", f"{label}: step p50/p95, rate, CPU",
                         f"{run['steps_ms']['p50']:.0f}/{run['steps_ms']['p95']:.0f} ms, {rate}, "
                         f"{run['cpu_ms_per_update']:.2f} ms/update", ""))
        targets = r["targets"]
        for key, label, target in (("step_p50_10", "step p50, 10 citizens", "<= 250 ms"),
                                   ("step_p95_10", "step p95, 10 citizens", "<= 400 ms"),
                                   ("throughput_ratio", "filings/s 50 citizens, RTT / 0 ms", ">= 0.8"),
                                   ("cpu_ratio_0ms", "CPU per update / echo (0 ms)", "<= 2x")):
            if targets.get(key):
                rows.append(("latency", label, str(targets[key]["value"]), f"{target}: {ok(targets[key]['met'])}"))
        return rows
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test; figures are noisier)")
    parser.add_argument("--postgres", metavar="URL", help="filings also against this PostgreSQL database")
    parser.add_argument("--postgres-sweep", metavar="URL",
                        help="sweep also against this PostgreSQL database, WHICH IT EMPTIES (a throwaway one)")
    parser.add_argument("names", nargs="*", metavar="NAME", help="run only these (as --only): " + ", ".join(ORDER))
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(ORDER))
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(args.names or ORDER)
    unknown = set(names) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    extra = {
        "classify": ["--seconds", "0.5", "--trials", "2"] if args.quick else [],
        "filings": (["--filings", "100", "--echo-updates", "1000"] if args.quick else [])
                   + (["--postgres", args.postgres] if args.postgres else []),
        "idle_memory": ["--seconds", "2", "--samples", "4"] if args.quick else [],
        "sweep": (["--obligations", "10000", "--due", "500", "--trials", "3"] if args.quick else [])
                 + (["--postgres", args.postgres_sweep] if args.postgres_sweep else []),
        "sending": ["--quick"] if args.quick else [],
        "latency": (["--citizens", "1,10", "--filings", "1"] if args.quick else ["--profile"])
                   + (["--postgres", args.postgres] if args.postgres else []),
    }
    results: dict[str, dict] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            print(f"=== {name} ===", flush=True)
            started = time.monotonic()
            try:
                proc = subprocess.run([sys.executable, "-m", f"bench.{name}", "--json", str(out), *extra[name]],
                                      cwd=ROOT, timeout=TIMEOUT_S[name])
            except subprocess.TimeoutExpired:
                failures[name] = f"timed out after {TIMEOUT_S[name]} s"
                continue
            if proc.returncode != 0 or not out.exists():
                failures[name] = f"exit code {proc.returncode}"
                continue
            results[name] = json.loads(out.read_text(encoding="utf-8"))
            print(f"({time.monotonic() - started:.0f} s)\n", flush=True)

    rows = [("benchmark", "figure", "value", "target")]
    for name in names:
        if name in results:
            rows += _rows(name, results[name])
        else:
            rows.append((name, "FAILED", failures.get(name, "?"), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    any_result = next(iter(results.values()), None)
    print("=== summary ===")
    if any_result:
        m = any_result["machine"]
        print(f"{m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, {m['date']}")
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "failures": failures}, ensure_ascii=False,
                                              indent=2), encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
