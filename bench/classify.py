"""Classification throughput: nlp.Classifier.default().classify vs bare jieba.lcut on the same texts.

Texts: tests/data/complaints_dev.jsonl + complaints_test.jsonl (short, typed like the bot's input),
or with --real the real-complaint corpus (nlp/data/corpus, longer narratives), repeated until one
timed run is at least --seconds of classifier work. The classifier is the shipped one: lexicon plus
learned weights (nlp/data/weights.json) when present. Both are warmed first (jieba dictionaries loaded, the
classifier's per-token memo filled — as in a running bot). The bare tokenizer is a separate
`jieba.Tokenizer()` with the packaged dictionary only, using the classifier's HMM setting.
The timed runs alternate classifier / jieba --trials times (default 5); the best run of each is reported.

Target: classifier time / jieba time <= 1.5.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, load_texts, machine  # noqa: E402

TARGET_RATIO = 1.5


def _timed(fn, texts: list[str], rounds: int, cpu: list[float] | None = None) -> float:
    """Wall seconds for `rounds` passes over `texts`; this process's CPU seconds appended to `cpu`."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for text in texts:
            fn(text)
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def run(seconds: float = 2.0, trials: int = 5, real: bool = False) -> dict:
    import jieba

    from nlp import Classifier

    if real:
        from nlp.corpus import load_corpus

        texts = [r.text for r in load_corpus().rows]
    else:
        texts = load_texts()
    chars = sum(len(t) for t in texts)

    t0 = time.perf_counter()
    classifier = Classifier.default()
    classifier.classify(texts[0])  # builds its tokenizer (dictionary + userdict)
    classifier_init = time.perf_counter() - t0
    hmm = Classifier.HMM

    t0 = time.perf_counter()
    bare = jieba.Tokenizer()
    bare.initialize()
    jieba_init = time.perf_counter() - t0

    def bare_cut(text: str) -> list[str]:
        return bare.lcut(text, HMM=hmm)

    # Warm both (memo, caches), and size the runs.
    _timed(classifier.classify, texts, 1)
    _timed(bare_cut, texts, 1)
    one_pass = _timed(classifier.classify, texts, 1)
    rounds = max(1, math.ceil(seconds / max(one_pass, 1e-9)))

    clf_times, jieba_times, clf_cpu, jieba_cpu = [], [], [], []
    for _ in range(trials):
        clf_times.append(_timed(classifier.classify, texts, rounds, clf_cpu))
        jieba_times.append(_timed(bare_cut, texts, rounds, jieba_cpu))
    n = len(texts) * rounds
    clf_best, jieba_best = min(clf_times), min(jieba_times)
    ratio = clf_best / jieba_best
    return {
        "benchmark": "classify",
        "machine": machine(),
        "texts_from": "real corpus" if real else "written sets",
        "learned_weights": classifier.weights is not None,
        "texts": len(texts),
        "chars_per_pass": chars,
        "rounds": rounds,
        "classified_per_trial": n,
        "trials": trials,
        "hmm": hmm,
        "classifier_init_s": round(classifier_init, 3),
        "jieba_init_s": round(jieba_init, 3),
        "classifier_s": [round(t, 4) for t in clf_times],
        "jieba_s": [round(t, 4) for t in jieba_times],
        "classifier_texts_per_s": round(n / clf_best, 1),
        "jieba_texts_per_s": round(n / jieba_best, 1),
        "classifier_us_per_text": round(clf_best / n * 1e6, 2),
        "jieba_us_per_text": round(jieba_best / n * 1e6, 2),
        "ratio": round(ratio, 3),
        "ratio_cpu": round(min(clf_cpu) / min(jieba_cpu), 3),
        "target": f"ratio <= {TARGET_RATIO}",
        "target_met": ratio <= TARGET_RATIO,
    }


def report(r: dict) -> None:
    print(f"classify: {r['texts']} texts ({r['texts_from']}) x {r['rounds']} rounds = {r['classified_per_trial']} "
          f"per trial, best of {r['trials']} (HMM={r['hmm']}, learned weights: {r['learned_weights']})")
    print(f"  classifier.classify : {r['classifier_texts_per_s']:>10,.0f} texts/s  "
          f"({r['classifier_us_per_text']} us/text)  runs {r['classifier_s']}")
    print(f"  bare jieba.lcut     : {r['jieba_texts_per_s']:>10,.0f} texts/s  "
          f"({r['jieba_us_per_text']} us/text)  runs {r['jieba_s']}")
    print(f"  init: classifier {r['classifier_init_s']} s, bare jieba {r['jieba_init_s']} s")
    print(f"  ratio classifier_time / jieba_time = {r['ratio']:.3f}  "
          f"(target {r['target']}: {'MET' if r['target_met'] else 'NOT MET'}); "
          f"on process CPU time {r['ratio_cpu']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum classifier work per timed run")
    parser.add_argument("--trials", type=int, default=5, help="alternating timed runs; the best of each is kept")
    parser.add_argument("--real", action="store_true", help="time the real-complaint corpus instead")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.trials, args.real)
    report(result)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
