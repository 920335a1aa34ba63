"""Lexicon term suggestions from supervisor corrections, with their measured effect.

``suggest_terms(classifier, corrected, labelled)``:

1. Features: every jieba token of a text (the classifier's own segmentation) and every
   bigram of adjacent tokens (written joined, 打+太极 -> 打太极), skipping function
   words, punctuation, numbers (Arabic or Chinese), single characters and anything
   that already fires for the domain in question.
2. For each domain d among the corrections, score features by the log-odds ratio with
   an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"):
   foreground = corrected texts re-labelled d, background = every other text
   (the rest of the corrections and the labelled set), prior alpha_w = the pooled
   count of the feature over all texts (times ``prior_scale``), so alpha_0 is the size
   of the pooled corpus: a term is not ranked high merely for never occurring in the
   background once or twice, and common words are shrunk towards zero.  Counts are document frequencies (a term
   repeated in one complaint counts once).  The z-score
   ``delta / sqrt(1/(y_i + a_w) + 1/(y_j + a_w))`` ranks the candidates.
3. Each of the best candidates gets a proposed weight from how reliably it points to
   d in all texts (P(d | term), smoothed): 1.0 for an even split up to 5.0 for a term
   seen only with d.  The term is then added to a copy of the lexicon and the
   labelled set is re-classified: accuracy and macro-F1 before -> after, how many
   predictions change, how many are fixed and broken, and how many of the
   corrected texts the term alone fixes.

Nothing is written: a supervisor reads the suggestions and edits ``lexicon.json``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

from .evaluation import as_pairs, evaluate
from .extract import cn_to_int
from .learned import FUNCTION_WORDS
from .lexicon import DOMAINS, Lexicon

__all__ = ["Suggestion", "suggest_terms", "format_suggestions", "candidate_features"]

_WORD = re.compile(r"^[\u4e00-\u9fffa-z][\u4e00-\u9fffa-z0-9]*$")
_HAS_DIGIT = re.compile(r"\d")
_STOP = FUNCTION_WORDS


@dataclass(frozen=True)
class Suggestion:
    term: str
    domain: str
    score: float  # log-odds z-score (Monroe et al.)
    in_domain: int  # corrected texts of the domain containing it
    elsewhere: int  # other texts containing it
    weight: float  # proposed weight
    accuracy_before: float
    accuracy_after: float
    macro_f1_before: float
    macro_f1_after: float
    changed: int  # labelled texts whose prediction changes
    fixed: int  # ... from wrong to right
    broken: int  # ... from right to wrong
    corrected_fixed: int  # corrected texts (of this domain) now classified right

    @property
    def lexicon_entry(self) -> str:
        return f'"{self.term}": {self.weight}'


def _is_number(tok: str) -> bool:
    return bool(_HAS_DIGIT.search(tok)) or cn_to_int(tok) is not None


def _usable(tok: str) -> bool:
    return len(tok) >= 2 and tok not in _STOP and bool(_WORD.match(tok)) and not _is_number(tok)


def candidate_features(tokens: Sequence[str]) -> set[str]:
    """Tokens and adjacent-token bigrams that could become lexicon terms."""
    toks = [t.strip().lower() for t in tokens]
    out = {t for t in toks if _usable(t)}
    for a, b in zip(toks, toks[1:]):
        if a and b and a not in _STOP and b not in _STOP and _WORD.match(a) and _WORD.match(b):
            if not _is_number(a) and not _is_number(b) and max(len(a), len(b)) >= 2 and len(a) + len(b) <= 6:
                out.add(a + b)
    return out


def _fires_for(classifier: Any, feature: str, domain: str) -> bool:
    """Does the feature already score for ``domain`` (it contains one of its terms)?"""
    terms = classifier.lexicon.terms[domain]
    if feature in terms:
        return True
    _, hits = classifier._features(feature)
    return any(d == domain for _key, d, _w, _shown in hits)


def _with_term(lexicon: Lexicon, domain: str, term: str, weight: float) -> Lexicon:
    terms = {d: dict(t) for d, t in lexicon.terms.items()}
    terms[domain][term] = weight
    return replace(lexicon, terms=terms)


def suggest_terms(
    classifier: Any,
    corrected: Iterable[Any],
    labelled: Iterable[Any],
    limit: int = 20,
    *,
    domain: str | None = None,
    prior_scale: float = 1.0,
    min_count: int | None = None,
    evaluate_top: int | None = None,
) -> list[Suggestion]:
    """Candidate terms per corrected domain (or only ``domain``), best first, each
    with its measured effect on ``labelled``.  See the module docstring."""
    corrected_pairs = as_pairs(corrected)
    labelled_pairs = as_pairs(labelled)
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}")
    tokenize = classifier.tokenize
    corr_feats = [(candidate_features(tokenize(t)), d) for t, d in corrected_pairs]
    lab_feats = [(candidate_features(tokenize(t)), d) for t, d in labelled_pairs]
    everything = corr_feats + lab_feats
    pooled: dict[str, int] = {}
    for feats, _ in everything:
        for f in feats:
            pooled[f] = pooled.get(f, 0) + 1
    pooled_total = sum(pooled.values()) or 1

    targets = [d for d in DOMAINS if any(cd == d for _, cd in corr_feats)]
    if domain is not None:
        targets = [d for d in targets if d == domain]

    before = evaluate(classifier, labelled_pairs, max_errors=0) if labelled_pairs else None
    before_pred = [classifier.classify(t).domain for t, _ in labelled_pairs]

    scored: list[tuple[float, str, str, int, int]] = []
    for d in targets:
        fg: dict[str, int] = {}
        bg: dict[str, int] = {}
        n_fg_docs = 0
        for feats, label in corr_feats:
            if label == d:
                n_fg_docs += 1
                for f in feats:
                    fg[f] = fg.get(f, 0) + 1
            else:
                for f in feats:
                    bg[f] = bg.get(f, 0) + 1
        for feats, label in lab_feats:
            if label != d:
                for f in feats:
                    bg[f] = bg.get(f, 0) + 1
        n_i, n_j = sum(fg.values()), sum(bg.values())
        floor = min_count if min_count is not None else (2 if n_fg_docs >= 3 else 1)
        for f, y_i in fg.items():
            if y_i < floor or _fires_for(classifier, f, d):
                continue
            y_j = bg.get(f, 0)
            a_w = prior_scale * pooled[f]
            a0 = prior_scale * pooled_total
            delta = math.log((y_i + a_w) / (n_i + a0 - y_i - a_w)) - math.log((y_j + a_w) / (n_j + a0 - y_j - a_w))
            z = delta / math.sqrt(1.0 / (y_i + a_w) + 1.0 / (y_j + a_w))
            if z > 0:
                scored.append((z, f, d, y_i, y_j))
    scored.sort(key=lambda s: (-s[0], s[1]))

    # drop a candidate that is a piece of a better-ranked one (or contains it) for the same domain
    picked: list[tuple[float, str, str, int, int]] = []
    for s in scored:
        if any(p[2] == s[2] and (s[1] in p[1] or p[1] in s[1]) for p in picked):
            continue
        picked.append(s)
        if len(picked) >= (evaluate_top or limit):
            break

    out: list[Suggestion] = []
    for z, f, d, y_i, y_j in picked:
        # P(d | term) over all texts, smoothed; even split -> 1.0, only-d -> 5.0
        with_d = sum(1 for feats, label in everything if label == d and f in feats)
        total = sum(1 for feats, _ in everything if f in feats)
        p = (with_d + 0.5) / (total + 1.0)
        weight = max(1.0, min(5.0, round((1.0 + 8.0 * max(0.0, p - 0.5)) * 2) / 2))
        variant = classifier.with_lexicon(_with_term(classifier.lexicon, d, f, weight))
        if labelled_pairs:
            after = evaluate(variant, labelled_pairs, max_errors=0)
            after_pred = [variant.classify(t).domain for t, _ in labelled_pairs]
        else:
            after, after_pred = None, []
        changed = sum(a != b for a, b in zip(before_pred, after_pred))
        fixed = sum(a != g and b == g for a, b, (_, g) in zip(before_pred, after_pred, labelled_pairs))
        broken = sum(a == g and b != g for a, b, (_, g) in zip(before_pred, after_pred, labelled_pairs))
        corr_fixed = sum(
            1
            for t, g in corrected_pairs
            if g == d and classifier.classify(t).domain != g and variant.classify(t).domain == g
        )
        out.append(
            Suggestion(
                term=f,
                domain=d,
                score=round(z, 3),
                in_domain=y_i,
                elsewhere=y_j,
                weight=weight,
                accuracy_before=before.accuracy if before else 0.0,
                accuracy_after=after.accuracy if after else 0.0,
                macro_f1_before=before.macro_f1 if before else 0.0,
                macro_f1_after=after.macro_f1 if after else 0.0,
                changed=changed,
                fixed=fixed,
                broken=broken,
                corrected_fixed=corr_fixed,
            )
        )
    return out[:limit]


def format_suggestions(suggestions: Sequence[Suggestion], labels: dict[str, str] | None = None) -> str:
    """Terminal table of suggestions and their effect on the labelled set."""
    if not suggestions:
        return "no candidate terms (too few corrections, or every frequent word already fires)"
    head = (f"{'domain':<12} {'term':<10} {'z':>6} {'here':>4} {'else':>4} {'weight':>6}  "
            f"{'accuracy':<15} {'macro-F1':<15} {'chg':>3} {'fix':>3} {'brk':>3} {'corr':>4}")
    lines = [head]
    for s in suggestions:
        term = s.term + " " * max(0, 10 - 2 * len(s.term))  # CJK is double width
        lines.append(
            f"{s.domain:<12} {term} {s.score:>6.2f} {s.in_domain:>4} {s.elsewhere:>4} {s.weight:>6.1f}  "
            f"{s.accuracy_before:.3f} -> {s.accuracy_after:.3f} {s.macro_f1_before:.3f} -> {s.macro_f1_after:.3f} "
            f"{s.changed:>3} {s.fixed:>3} {s.broken:>3} {s.corrected_fixed:>4}"
        )
    lines.append("z: log-odds z-score (informative Dirichlet prior); here/else: texts with the term in the "
                 "corrected domain / elsewhere; chg/fix/brk: labelled predictions changed/fixed/broken; "
                 "corr: corrections the term alone fixes")
    return "\n".join(lines)
