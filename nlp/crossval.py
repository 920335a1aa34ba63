"""Choosing training settings without the holdout (training only; ``python -m nlp.crossval``).

Two measures, as every round of issue 14 compared candidates (docs/classifier.md):

- :func:`cross_validate`: out-of-fold figures on train + dev (5 folds grouped by site, the
  very procedure ``train`` calibrates with), averaged over several fold assignments (salts),
  because one assignment moves macro-F1 by about ±0.005;
- :func:`dev_figures`: a model trained on the train split alone (its own out-of-fold
  calibration) scored on the dev split.

The holdout split is never read here.  ``python -m nlp.crossval --candidate
"boundary_grams=1" --candidate "class_balance=0.5"`` prints both measures for the
default settings and for each candidate (``TrainingSettings`` fields, comma-separated).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import time
from typing import Any, Sequence

from .training import Doc, TrainingSettings, _figures, _predict, _score, _Tables, select, train, usable

__all__ = ["cross_validate", "dev_figures", "learning_curve", "parse_candidate", "site_drawn", "SALTS"]

SALTS = ("", "a", "b", "c", "d", "e")
_KEYS = ("macro_f1", "top2", "accuracy", "other_recall", "other_precision")


def _mean(rows: Sequence[dict], keys: Sequence[str] = (*_KEYS, "written")) -> dict:
    return {k: round(sum(r.get(k) or 0.0 for r in rows) / len(rows), 4) for k in keys}


def cross_validate(docs: Sequence[Doc], settings: TrainingSettings = TrainingSettings(),
                   salts: Sequence[str] = SALTS[:3]) -> dict:
    """Mean out-of-fold figures of the full-weight texts (and 'written': the accuracy of the
    down-weighted ones) over the fold assignments ``salts``; per salt under 'runs'."""
    runs = []
    for salt in salts:
        sel = select(docs, dataclasses.replace(settings, fold_salt=salt))
        f = _figures(sel.preds, sel.gold)
        light = [_predict(sel.probe, sel.oof[i]) for i in sel.light]
        f["written"] = round(sum(p[0] == sel.oof[i].domain for p, i in zip(light, sel.light)) / len(light), 4) \
            if light else None
        f["margin"] = sel.margin
        runs.append(f)
    return {**_mean(runs), "runs": runs}


def dev_figures(train_docs: Sequence[Doc], dev_docs: Sequence[Doc],
                settings: TrainingSettings = TrainingSettings()) -> dict:
    """Figures on ``dev_docs`` of weights trained on ``train_docs`` alone (scored as the
    classifier scores a text, without the file's rounding)."""
    weights, _ = train(train_docs, settings, for_evaluation=True)
    tables = _Tables(weights.domain_vectors, weights.gate_weights)
    dev = usable(dev_docs, settings)
    preds = [_predict(weights, _score(d, tables, weights.length_power, weights.subwords, weights.tf_scale))
             for d in dev]
    f = _figures(preds, [d.domain for d in dev])
    f["margin"] = weights.other_margin
    return f


def site_drawn(site: str, fraction: float, draw: int) -> bool:
    """Whether ``site`` is in draw ``draw`` of a ``fraction`` of the sites (by SHA-256 of draw + site)."""
    return int(hashlib.sha256(f"{draw}:{site}".encode()).hexdigest(), 16) % 10_000 < fraction * 10_000


def learning_curve(train_docs: Sequence[Doc], dev_docs: Sequence[Doc], extra: Sequence[Doc] = (),
                   fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0), draws: int = 2,
                   settings: TrainingSettings = TrainingSettings()) -> list[dict]:
    """Dev figures of models trained on a share of the train split's sites (``draws`` draws per
    share, sites kept by the SHA-256 of draw + site), plus ``extra`` (the written set) always:
    how much a larger corpus would still buy.  Per share: the mean figures and the texts used."""
    sites = sorted({d.group for d in train_docs})
    rows = []
    for fraction in fractions:
        runs = []
        for draw in range(1 if fraction >= 1 else draws):
            keep = {s for s in sites if site_drawn(s, fraction, draw)}
            part = [d for d in train_docs if d.group in keep]
            runs.append({**dev_figures([*part, *extra], dev_docs, settings),
                         "texts": sum(1 for d in part if d.scored)})
        rows.append({"fraction": fraction, "texts": round(sum(r["texts"] for r in runs) / len(runs)),
                     **_mean(runs, _KEYS), "runs": runs})
    return rows


def parse_candidate(text: str, base: TrainingSettings = TrainingSettings()) -> TrainingSettings:
    """"field=value,field=value" -> settings (values parsed as the field's type)."""
    changes: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        current = getattr(base, key)
        if key == "boundary_grams":
            changes[key] = value if value == "single" else value.lower() in ("1", "true", "yes")
        elif isinstance(current, bool):
            changes[key] = value.lower() in ("1", "true", "yes")
        elif key == "margin_salts":
            changes[key] = tuple(value.split("/"))
        elif isinstance(current, tuple):
            changes[key] = tuple(float(v) for v in value.split("/"))
        else:
            changes[key] = type(current)(value)
    return dataclasses.replace(base, **changes)


def _docs() -> tuple[list[Doc], list[Doc], list[Doc]]:
    """(real train, real dev, written dev set) as ``chengxin lexicon train`` prepares them."""
    from bot.cli_lexicon import DEFAULT_LABELLED_PATH, WRITTEN_WEIGHT, _classifier, load_labelled

    from .corpus import load_corpus, read_splits
    from .training import prepare

    clf = _classifier()
    rows = load_corpus().rows
    splits = read_splits()
    by = {s: [(r.text, r.domain, r.site) for r in rows if splits.get(r.site) == s] for s in ("train", "dev")}
    written = [(t, d, f"written:{i}") for i, (t, d) in enumerate(load_labelled(DEFAULT_LABELLED_PATH))]
    return prepare(clf, by["train"]), prepare(clf, by["dev"]), prepare(clf, written, weight=WRITTEN_WEIGHT)


def _row(name: str, f: dict) -> str:
    return (f"{name:<40} F1 {f['macro_f1']:.3f} top2 {f['top2']:.3f} acc {f['accuracy']:.3f} "
            f"other R/P {f['other_recall'] or 0:.3f}/{f['other_precision'] or 0:.3f}"
            + (f" written {f['written']:.3f}" if f.get("written") is not None else "")
            + (f" margin {f['margin']}" if "margin" in f else ""))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp.crossval", description=__doc__.splitlines()[0])
    ap.add_argument("--candidate", action="append", default=[], help="field=value,... (TrainingSettings)")
    ap.add_argument("--salts", type=int, default=3, help=f"fold assignments to average (1-{len(SALTS)})")
    ap.add_argument("--no-baseline", action="store_true", help="skip the default settings")
    ap.add_argument("--no-dev", action="store_true", help="skip the train-only model scored on dev")
    ap.add_argument("--curve", action="store_true",
                    help="the learning curve instead: dev figures of models trained on 25/50/75/100 %% of train")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    train_docs, dev_docs, written = _docs()
    print(f"docs: train {len(train_docs)}, dev {len(dev_docs)}, written {len(written)} "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    if args.curve:
        for row in learning_curve(train_docs, dev_docs, written):
            print(_row(f"{row['fraction']:.0%} of train ({row['texts']} texts, dev)", row), flush=True)
        print(f"({time.perf_counter() - started:.0f} s)")
        return 0
    candidates = ([] if args.no_baseline else ["baseline"]) + args.candidate
    for name in candidates:
        settings = TrainingSettings() if name == "baseline" else parse_candidate(name)
        cv = cross_validate(train_docs + dev_docs + written, settings, SALTS[:args.salts])
        print(_row(f"{name} (CV x{args.salts})", cv), flush=True)
        if not args.no_dev:
            print(_row(f"{name} (dev)", dev_figures(train_docs + written, dev_docs, settings)), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
