"""Evaluating a classifier on labelled complaints.

``evaluate(classifier, examples)`` runs ``classifier.classify`` over ``(text, domain)``
pairs (or ``{"text", "domain"}`` dicts) and returns a :class:`Report`: accuracy,
macro-F1, per-domain precision/recall/F1, top-2 accuracy, recall of 'other', a
confusion matrix and the worst mistakes with the terms that fired, by domain.
``format_report(report)`` renders it as a plain-text table for a terminal.

Definitions:
- macro-F1 is the unweighted mean of F1 over the domains that occur in the gold
  labels or in the predictions (a domain absent from both is skipped; one that is
  predicted but never gold scores F1 = 0 and pulls the mean down);
- precision of a domain that is never predicted is 0 (and so is its F1);
- top-2: the gold domain is the winner or the runner-up in ``Classification.ranked()``;
- 'other' recall: share of gold-'other' examples predicted 'other' (None if none);
- "worst" mistakes: largest score gap ``scores[predicted] - scores[gold]`` first;
- reliability: predictions binned by confidence, each bin's mean confidence against its
  accuracy (calibrated: they agree); ECE is their size-weighted mean gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .lexicon import DOMAINS

__all__ = ["DomainMetrics", "Misclassification", "ReliabilityBin", "Report", "evaluate", "format_report",
           "format_reliability", "reliability", "expected_calibration_error", "as_pairs"]


@dataclass(frozen=True)
class DomainMetrics:
    precision: float
    recall: float
    f1: float
    support: int  # gold examples of this domain
    predicted: int  # examples predicted as this domain


@dataclass(frozen=True)
class Misclassification:
    text: str
    gold: str
    predicted: str
    confidence: float
    gap: float  # scores[predicted] - scores[gold]
    gold_rank: int  # 1-based rank of the gold domain
    terms_by_domain: Mapping[str, list[str]]


@dataclass(frozen=True)
class ReliabilityBin:
    """Predictions whose confidence is in [low, high): how sure the classifier said it
    was (mean confidence) against how often it was right (accuracy).  Calibrated
    confidence means the two columns agree."""

    low: float
    high: float
    n: int
    mean_confidence: float
    accuracy: float


def reliability(pairs: Iterable[tuple[float, bool]], bins: int = 10) -> list[ReliabilityBin]:
    """(confidence, correct) pairs -> equal-width bins over [0, 1] (empty bins left out)."""
    filled: dict[int, list[tuple[float, bool]]] = {}
    for conf, ok in pairs:
        filled.setdefault(min(int(conf * bins), bins - 1), []).append((conf, ok))
    out = []
    for i in sorted(filled):
        items = filled[i]
        out.append(ReliabilityBin(i / bins, (i + 1) / bins, len(items),
                                  sum(c for c, _ in items) / len(items), sum(ok for _, ok in items) / len(items)))
    return out


def expected_calibration_error(bins: Iterable[ReliabilityBin]) -> float:
    """Mean |confidence - accuracy| over bins, weighted by their size."""
    bins = list(bins)
    n = sum(b.n for b in bins)
    return sum(b.n * abs(b.mean_confidence - b.accuracy) for b in bins) / n if n else 0.0


@dataclass(frozen=True)
class Report:
    n: int
    accuracy: float
    macro_f1: float
    top2_accuracy: float
    other_recall: float | None
    per_domain: Mapping[str, DomainMetrics]
    confusion: Mapping[str, Mapping[str, int]]  # gold -> predicted -> count
    errors: list[Misclassification] = field(default_factory=list)  # worst first
    confident_share: float | None = None  # share of examples at/above the threshold
    confident_accuracy: float | None = None  # accuracy among those
    threshold: float | None = None
    other_precision: float | None = None  # share of 'other' predictions that are gold 'other'
    reliability: list[ReliabilityBin] = field(default_factory=list)  # by confidence, low to high

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "top2_accuracy": round(self.top2_accuracy, 4),
            "other_recall": None if self.other_recall is None else round(self.other_recall, 4),
            "per_domain": {
                d: {"precision": round(m.precision, 4), "recall": round(m.recall, 4), "f1": round(m.f1, 4),
                    "support": m.support, "predicted": m.predicted}
                for d, m in self.per_domain.items()
            },
            "errors": len(self.errors),
            "other_precision": None if self.other_precision is None else round(self.other_precision, 4),
            "reliability": [{"low": b.low, "high": b.high, "n": b.n, "mean_confidence": round(b.mean_confidence, 4),
                             "accuracy": round(b.accuracy, 4)} for b in self.reliability],
        }


def as_pairs(examples: Iterable[Any]) -> list[tuple[str, str]]:
    """Accept ``(text, domain)`` pairs or ``{"text", "domain"}`` mappings."""
    out: list[tuple[str, str]] = []
    for ex in examples:
        if isinstance(ex, Mapping):
            out.append((ex["text"], ex["domain"]))
        else:
            text, domain = ex
            out.append((text, domain))
    return out


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def evaluate(classifier: Any, examples: Iterable[Any], *, max_errors: int = 20) -> Report:
    """Classify every example and compute the metrics (see the module docstring)."""
    pairs = as_pairs(examples)
    for _, gold in pairs:
        if gold not in DOMAINS:
            raise ValueError(f"unknown domain {gold!r} in labelled examples")
    confusion: dict[str, dict[str, int]] = {d: {p: 0 for p in DOMAINS} for d in DOMAINS}
    correct = top2 = 0
    errors: list[Misclassification] = []
    threshold = getattr(classifier, "CONFIDENCE_THRESHOLD", None)
    confident = confident_correct = 0
    outcomes: list[tuple[float, bool]] = []
    for text, gold in pairs:
        res = classifier.classify(text)
        pred = res.domain
        outcomes.append((res.confidence, pred == gold))
        confusion[gold][pred] += 1
        ranked = [d for d, _ in res.ranked()]
        rank = ranked.index(gold) + 1 if gold in ranked else len(DOMAINS)
        if pred == gold:
            correct += 1
        if rank <= 2 or pred == gold:
            top2 += 1
        if threshold is not None and res.confidence >= threshold:
            confident += 1
            confident_correct += pred == gold
        if pred != gold:
            errors.append(
                Misclassification(
                    text=text,
                    gold=gold,
                    predicted=pred,
                    confidence=res.confidence,
                    gap=res.scores.get(pred, 0.0) - res.scores.get(gold, 0.0),
                    gold_rank=rank,
                    terms_by_domain={d: list(t) for d, t in res.terms_by_domain.items()},
                )
            )
    n = len(pairs)
    per: dict[str, DomainMetrics] = {}
    f1s: list[float] = []
    for d in DOMAINS:
        tp = confusion[d][d]
        support = sum(confusion[d].values())
        predicted = sum(confusion[g][d] for g in DOMAINS)
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        f = _f1(p, r)
        per[d] = DomainMetrics(p, r, f, support, predicted)
        if support or predicted:
            f1s.append(f)
    other_support = per["other"].support
    errors.sort(key=lambda e: (-e.gap, -e.confidence))
    return Report(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
        top2_accuracy=top2 / n if n else 0.0,
        other_recall=per["other"].recall if other_support else None,
        per_domain=per,
        confusion=confusion,
        errors=errors[:max_errors] if max_errors is not None else errors,
        confident_share=(confident / n) if (threshold is not None and n) else None,
        confident_accuracy=(confident_correct / confident) if confident else None,
        threshold=threshold,
        other_precision=per["other"].precision if per["other"].predicted else None,
        reliability=reliability(outcomes),
    )


_SHORT = {"procurement": "proc", "ppp": "ppp", "bidding": "bid", "investment": "inv", "debt": "debt",
          "statistics": "stat", "township": "town", "judgment": "judg", "conduct": "cond", "other": "oth"}


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_report(report: Report, *, errors: int = 10, labels: Mapping[str, str] | None = None) -> str:
    """Plain-text report: headline figures, per-domain table, confusion matrix,
    worst mistakes with the terms that fired per domain."""
    r = report
    lines = [
        f"examples {r.n}   accuracy {r.accuracy:.3f}   macro-F1 {r.macro_f1:.3f}   "
        f"top-2 {r.top2_accuracy:.3f}   'other' recall "
        + ("n/a" if r.other_recall is None else f"{r.other_recall:.3f}")
        + "   'other' precision " + ("n/a" if r.other_precision is None else f"{r.other_precision:.3f}"),
    ]
    if r.confident_share is not None:
        acc = "n/a" if r.confident_accuracy is None else f"{r.confident_accuracy:.3f}"
        lines.append(f"confidence >= {r.threshold:.2f}: {r.confident_share:.1%} of examples, accuracy {acc}")
    lines += ["", f"{'domain':<12} {'prec':>6} {'recall':>6} {'F1':>6} {'gold':>5} {'pred':>5}  label"]
    for d in DOMAINS:
        m = r.per_domain[d]
        if not (m.support or m.predicted):
            continue
        label = (labels or {}).get(d, "")
        lines.append(f"{d:<12} {m.precision:>6.3f} {m.recall:>6.3f} {m.f1:>6.3f} {m.support:>5} {m.predicted:>5}  {label}")
    used = [d for d in DOMAINS if r.per_domain[d].support or r.per_domain[d].predicted]
    lines += ["", "confusion (rows gold, columns predicted):", f"{'':<12}" + "".join(f"{_SHORT[d]:>6}" for d in used)]
    for g in used:
        row = "".join(f"{(r.confusion[g][p] or '.'):>6}" for p in used)
        lines.append(f"{g:<12}{row}")
    if r.errors and errors:
        lines += ["", f"worst mistakes ({min(errors, len(r.errors))} of {sum(m.support for m in r.per_domain.values()) - round(r.accuracy * r.n)}):"]
        for e in r.errors[:errors]:
            lines.append(f"- gold {e.gold} -> {e.predicted} (conf {e.confidence:.2f}, gold rank {e.gold_rank}): {_clip(e.text, 60)}")
            fired = "; ".join(f"{d}: {', '.join(t)}" for d, t in e.terms_by_domain.items()) or "(no terms)"
            lines.append(f"    fired  {fired}")
    return "\n".join(lines)


def format_reliability(bins: list[ReliabilityBin]) -> str:
    """The reliability table: does a confidence of 0.8 mean right 8 times in 10?"""
    lines = [f"reliability (ECE {expected_calibration_error(bins):.3f}):",
             f"{'confidence':<12} {'n':>5} {'said':>6} {'right':>6}"]
    for b in bins:
        lines.append(f"{b.low:.1f}-{b.high:.1f}     {b.n:>5} {b.mean_confidence:>6.3f} {b.accuracy:>6.3f}")
    return "\n".join(lines)
