"""Standard text classifiers on the same splits (``python -m nlp.baselines``; the ``baselines`` extra).

How far is the shipped classifier from what the usual strong linear text classifiers reach on
the same real texts?  Each baseline is a scikit-learn pipeline — TF-IDF over character 1-3-grams,
over the classifier's own jieba evidence tokens and their pairs, or both, with a linear SVM or
a logistic regression — trained on the train split (plus the written dev set, down-weighted as
``lexicon train`` weights it) with its C chosen by 5-fold cross-validation grouped by site
inside train, then scored on the dev split with the figures ``lexicon check`` prints.  Nothing
here is tuned on the holdout: ``--holdout`` trains on train + dev with the C chosen there and
scores the holdout once, for the record.  ``--curve`` prints the best baseline's learning curve
(25/50/75/100 % of train's sites, as ``python -m nlp.crossval --curve`` does for ours).

Not used by the bot: scikit-learn is an optional extra, and the shipped classifier must run on
the standard library within 1.5x bare jieba (docs/classifier.md, "The ceiling of linear
models").
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
import time
from dataclasses import dataclass
from typing import Sequence

from .crossval import site_drawn
from .learned import is_evidence_token
from .normalize import normalize_text
from .training import _figures

__all__ = ["Text", "BASELINES", "fit_and_score", "choose_c", "main"]

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5


@dataclass(frozen=True)
class Text:
    chars: str  # normalize_text(text): traditional folded to simplified, lower-case
    tokens: str  # the classifier's evidence tokens, space-joined (numbers never count)
    domain: str
    site: str
    weight: float = 1.0


def _features(kind: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    def column(name: str) -> FunctionTransformer:
        return FunctionTransformer(lambda texts: [getattr(t, name) for t in texts])

    chars = make_pipeline(column("chars"), TfidfVectorizer(analyzer="char", ngram_range=(1, 3),
                                                           sublinear_tf=True, min_df=2))
    words = make_pipeline(column("tokens"), TfidfVectorizer(analyzer=str.split, ngram_range=(1, 1),
                                                            sublinear_tf=True, min_df=2))
    if kind == "chars":
        return chars
    if kind == "words":
        return words
    return make_union(words, chars)


def _model(kind: str, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if kind == "svm":
        return LinearSVC(C=c, class_weight="balanced")
    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")


# name -> (features, model)
BASELINES: dict[str, tuple[str, str]] = {
    "TF-IDF char 1-3 + linear SVM": ("chars", "svm"),
    "TF-IDF jieba tokens + linear SVM": ("words", "svm"),
    "TF-IDF tokens + char 1-3 + linear SVM": ("both", "svm"),
    "TF-IDF tokens + char 1-3 + logistic regression": ("both", "lr"),
}


def _ranked(model, X) -> list[tuple[str, float, list[str]]]:
    scores = model.decision_function(X)
    classes = list(model.classes_)
    preds = []
    for row in scores:
        order = sorted(range(len(classes)), key=lambda i: (-row[i], classes[i]))
        ranked = [classes[i] for i in order]
        preds.append((ranked[0], float(row[order[0]]), ranked))
    return preds


def _predict(name: str, c: float, train: Sequence[Text], test: Sequence[Text]) -> list[tuple[str, float, list[str]]]:
    """Ranked predictions for ``test`` of baseline ``name`` with C = ``c`` trained on ``train``."""
    features, model = BASELINES[name]
    vec = _features(features)
    clf = _model(model, c)
    clf.fit(vec.fit_transform(list(train)), [t.domain for t in train], sample_weight=[t.weight for t in train])
    return _ranked(clf, vec.transform(list(test)))


def fit_and_score(name: str, c: float, train: Sequence[Text], test: Sequence[Text]) -> dict:
    """Figures on ``test`` of baseline ``name`` with C = ``c`` trained on ``train``."""
    return _figures(_predict(name, c, train, test), [t.domain for t in test])


def _fold_of(site: str) -> int:
    return int(hashlib.sha256(site.encode()).hexdigest(), 16) % FOLDS


def choose_c(name: str, train: Sequence[Text]) -> tuple[float, float]:
    """(C, its out-of-fold macro-F1): 5 folds grouped by site inside ``train`` (written rows
    always train); the real texts of each held-out fold are scored."""
    best = (C_GRID[0], -1.0)
    for c in C_GRID:
        preds, gold = [], []
        for k in range(FOLDS):
            held = [t for t in train if t.weight == 1.0 and _fold_of(t.site) == k]
            if not held:
                continue
            rest = [t for t in train if not (t.weight == 1.0 and _fold_of(t.site) == k)]
            preds += _predict(name, c, rest, held)
            gold += [t.domain for t in held]
        f1 = _figures(preds, gold)["macro_f1"]
        if f1 > best[1]:
            best = (c, f1)
    return best


def _texts() -> dict[str, list[Text]]:
    """Real texts by split, and the written dev set ('written'), as ``lexicon train`` reads them."""
    from bot.cli_lexicon import DEFAULT_LABELLED_PATH, WRITTEN_WEIGHT, _classifier, load_labelled

    from .corpus import load_corpus, read_splits

    lex_only = _classifier().with_weights(None)

    def text(raw: str, domain: str, site: str, weight: float = 1.0) -> Text:
        tokens = " ".join(t for t in lex_only.tokenize(raw) if is_evidence_token(t))
        return Text(normalize_text(raw), tokens, domain, site, weight)

    splits = read_splits()
    out: dict[str, list[Text]] = {s: [] for s in ("train", "dev", "holdout")}
    for row in load_corpus().rows:
        out[splits[row.site]].append(text(row.text, row.domain, row.site))
    out["written"] = [text(t, d, f"written:{i}", WRITTEN_WEIGHT)
                      for i, (t, d) in enumerate(load_labelled(DEFAULT_LABELLED_PATH))]
    return out


def _row(name: str, f: dict, extra: str = "") -> str:
    return (f"{name:<48} F1 {f['macro_f1']:.3f} top2 {f['top2']:.3f} acc {f['accuracy']:.3f} "
            f"other R/P {f['other_recall'] or 0:.3f}/{f['other_precision'] or 0:.3f}{extra}")


def _share(texts: Sequence[Text], fraction: float, draw: int) -> list[Text]:
    """The texts of a share of the sites, drawn as ``nlp.crossval.learning_curve`` draws them."""
    return [t for t in texts if site_drawn(t.site, fraction, draw)]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp.baselines", description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="run only baselines whose name has this")
    ap.add_argument("--holdout", action="store_true",
                    help="also train on train + dev and score the holdout once (never used to choose)")
    ap.add_argument("--curve", action="store_true", help="the first baseline's learning curve on dev")
    args = ap.parse_args(argv)
    if importlib.util.find_spec("sklearn") is None:  # the bot's own install has no scikit-learn
        print("scikit-learn is not installed: pip install -e '.[baselines]'", file=sys.stderr)
        return 2
    started = time.perf_counter()
    texts = _texts()
    print(f"texts: train {len(texts['train'])}, dev {len(texts['dev'])}, holdout {len(texts['holdout'])}, "
          f"written {len(texts['written'])} ({time.perf_counter() - started:.0f} s)", flush=True)
    names = [n for n in BASELINES if not args.only or any(o in n for o in args.only)]
    train = texts["train"] + texts["written"]
    for name in names:
        c, oof = choose_c(name, train)
        print(_row(f"{name} (dev)", fit_and_score(name, c, train, texts["dev"]),
                   f"  C {c} (train CV F1 {oof:.3f})"), flush=True)
        if args.holdout:
            print(_row(f"{name} (holdout)", fit_and_score(name, c, train + texts["dev"], texts["holdout"])),
                  flush=True)
        if args.curve:
            for fraction in (0.25, 0.5, 0.75, 1.0):
                part = _share(texts["train"], fraction, 0) + texts["written"]
                n = sum(1 for t in part if t.weight == 1.0)
                print(_row(f"  {fraction:.0%} of train ({n} texts, dev)",
                           fit_and_score(name, c, part, texts["dev"])), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
