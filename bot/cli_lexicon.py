"""`chengxin lexicon check [FILE]` and `chengxin lexicon suggest`: lexicon maintenance.

Both take JSONL files, one ``{"text": ..., "domain": ...}`` object per line, and print
plain-text reports.  Imports only ``nlp`` and the standard library.

- ``lexicon_check(path)`` classifies a labelled file (default: the held-out test set
  ``tests/data/complaints_test.jsonl``) and prints accuracy, macro-F1, per-domain
  precision/recall/F1, top-2 accuracy, 'other' recall, the confusion matrix and the
  worst mistakes with the terms that fired.
- ``lexicon_suggest(corrections, labelled, domain)`` reads supervisor corrections
  (texts re-labelled by hand) and prints candidate lexicon terms per domain with their
  effect on a labelled set (default: the dev set ``tests/data/complaints_dev.jsonl``;
  never tune on the test set).

Return codes: 0 done, 2 bad input (missing file, malformed line, unknown domain).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nlp import DOMAINS, Classifier, DepartmentMatcher
from nlp.evaluation import evaluate, format_report
from nlp.suggest import format_suggestions, suggest_terms

from bot.progress import Bar

__all__ = ["lexicon_check", "lexicon_suggest", "load_labelled"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECK_PATH = ROOT / "tests" / "data" / "complaints_test.jsonl"
DEFAULT_LABELLED_PATH = ROOT / "tests" / "data" / "complaints_dev.jsonl"
DEPARTMENTS_CSV = Path(__file__).resolve().parent / "data" / "departments.csv"


class InputError(ValueError):
    pass


def load_labelled(path: str | Path) -> list[tuple[str, str]]:
    """Read a JSONL file of {"text", "domain"} objects; InputError naming the line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path.name}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise InputError(f"{path.name}:{lineno}: needs a non-empty \"text\"")
            if obj.get("domain") not in DOMAINS:
                raise InputError(f"{path.name}:{lineno}: unknown domain {obj.get('domain')!r} "
                                 f"(one of {', '.join(DOMAINS)})")
            rows.append((obj["text"], obj["domain"]))
    if not rows:
        raise InputError(f"{path}: no examples")
    return rows


def _classifier() -> Classifier:
    """The bot's classifier: packaged lexicon plus the department directory's names."""
    clf = Classifier.default()
    if DEPARTMENTS_CSV.is_file():
        try:
            clf.add_words(DepartmentMatcher.from_csv(DEPARTMENTS_CSV).words())
        except (OSError, ValueError):
            pass
    return clf


def lexicon_check(path: str | None = None) -> int:
    try:
        rows = load_labelled(path or DEFAULT_CHECK_PATH)
    except InputError as exc:
        print(f"lexicon check: {exc}", file=sys.stderr)
        return 2
    clf = _classifier()
    print(f"lexicon check: {path or DEFAULT_CHECK_PATH}")
    with Bar("lexicon check", total=len(rows)) as bar:
        report = evaluate(_Counting(clf, bar.advance), rows)
    print(format_report(report, labels=dict(clf.lexicon.labels)))
    return 0


class _Counting:
    """The classifier, advancing the progress bar once per example it classifies."""

    def __init__(self, classifier: Classifier, advance) -> None:
        self._classifier, self._advance = classifier, advance

    def classify(self, text: str):
        result = self._classifier.classify(text)
        self._advance()
        return result

    def __getattr__(self, name: str):
        return getattr(self._classifier, name)


def lexicon_suggest(corrections_path: str, labelled_path: str | None = None, domain: str | None = None) -> int:
    if domain is not None and domain not in DOMAINS:
        print(f"lexicon suggest: unknown domain {domain!r} (one of {', '.join(DOMAINS)})", file=sys.stderr)
        return 2
    try:
        corrections = load_labelled(corrections_path)
        labelled = load_labelled(labelled_path or DEFAULT_LABELLED_PATH)
    except InputError as exc:
        print(f"lexicon suggest: {exc}", file=sys.stderr)
        return 2
    clf = _classifier()
    suggestions = suggest_terms(clf, corrections, labelled, limit=20, domain=domain)
    print(f"lexicon suggest: {len(corrections)} corrections, effect measured on "
          f"{len(labelled)} labelled texts ({labelled_path or DEFAULT_LABELLED_PATH})")
    print(format_suggestions(suggestions))
    if suggestions:
        print("\nto adopt one, add it to nlp/data/lexicon.json under domains.<domain>.terms, e.g. "
              f"{suggestions[0].lexicon_entry}, then run `python -m nlp.lexicon`")
    return 0
