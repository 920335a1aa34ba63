"""The classifier's decision, once the lexicon pass has scored a text: the result type
(:class:`Classification`), the learned decision (calibrated probabilities from
``nlp/data/weights.json`` plus the lexicon, see nlp.learned) and the lexicon-only one, and
the explanation (判断依据: the lexicon terms and the learned tokens that decided it).

Functions of the :class:`nlp.classifier.Classifier` whose precomputed constants they read
(``clf``); split from it only to keep each module readable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from math import exp as _exp
from math import log as _log
from typing import Any

from .lexicon import DOMAINS, GOVERNMENT_DOMAINS

__all__ = ["Classification", "EMPTY_SCORES", "HAS_CONTENT", "MAX_LEARNED_TERMS", "MIN_LEARNED_PUSH", "decide_learned",
           "decide_lexicon", "lexicon_terms"]

EMPTY_SCORES = {d: (1.0 if d == "other" else 0.0) for d in DOMAINS}
HAS_CONTENT = re.compile(r"[^\W_]")  # a letter, digit or character: not empty or punctuation only


@dataclass(frozen=True)
class Classification:
    domain: str
    confidence: float
    scores: dict[str, float]
    terms: list[str]
    terms_by_domain: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "domain": self.domain,
            "confidence": round(self.confidence, 4),
            "scores": {d: round(s, 4) for d, s in self.scores.items()},
            "terms": list(self.terms),
        }

    def ranked(self) -> list[tuple[str, float]]:
        """The winner first, then the other domains by descending score (ties in DOMAINS
        order).  The winner is usually the highest score; 'other' can win with a lower
        one by the learned out-of-scope margin (nlp.learned.other_wins)."""
        rest = sorted((kv for kv in self.scores.items() if kv[0] != self.domain),
                      key=lambda kv: (-kv[1], DOMAINS.index(kv[0])))
        return [(self.domain, self.scores.get(self.domain, 0.0)), *rest]


def lexicon_terms(raw: dict[str, float], hits_in_order, fired, seen) -> dict[str, list[str]]:
    """Matched terms per domain in order of first appearance, then the strings
    that fired a rule; only domains that actually scored."""
    terms_by_domain: dict[str, list[str]] = {}
    for d, shown in hits_in_order:
        if raw[d] > 0:
            lst = terms_by_domain.setdefault(d, [])
            if shown not in lst:
                lst.append(shown)
    for d, feats in fired:
        if raw[d] > 0:
            lst = terms_by_domain.setdefault(d, [])
            for f in feats:
                shown = seen[f] if f[0] == "*" else f.lstrip("=")
                if shown not in lst:
                    lst.append(shown)
    return terms_by_domain


def decide_learned(clf: Any, norm: str, raw: dict[str, float], actors: tuple, learned: dict[str, tuple],
                   hits_in_order, fired, seen, repeats: dict[str, int] | None = None) -> Classification:
    """Calibrated probabilities from the learned weights plus the lexicon (see
    nlp.learned); the explanation is the lexicon terms and the learned tokens that
    pushed the winner ahead of its runner-up.  ``repeats``: evidence tokens met more than
    once, with their counts (each weighs 1 + tf_scale * log(count) times its weights)."""
    # The combination of nlp.learned.combine, inlined with precomputed constants: this
    # runs for every complaint and must stay within 1.5x of bare jieba.
    w = clf.weights
    n = len(learned)
    tf = w.tf_scale
    if tf and repeats:
        learned = dict(learned)
        for t, c in repeats.items():
            m = 1.0 + tf * _log(c)
            learned[t] = tuple(m * x for x in learned[t])
    if n:
        sums = [sum(col) for col in zip(*learned.values())]
        nb_gate = sums.pop()
    else:
        sums, nb_gate = clf._zero_vec, 0.0
    mult = clf._multipliers.get(n)
    if mult is None:
        mult = clf._multipliers[n] = w.multipliers(n)
    m_nb, m_lex, m_gate, m_glg, m_glo = mult
    raws = list(raw.values())  # DOMAINS order, 'other' last
    other_raw = raws.pop()
    lex = [x if x > 0.0 else 0.0 for x in raws]
    z = [m_nb * a + m_lex * x + b for a, x, b in zip(sums, lex, w.domain_bias)]
    top = max(z)
    ez = [_exp(v - top) for v in z]
    gc = w.gate_coef
    g = (m_gate * nb_gate + m_glg * max(lex) + m_glo * (other_raw if other_raw > 0.0 else 0.0)
         + (gc[6] if actors[0] else 0.0) + (gc[7] if actors[1] else 0.0) + gc[8])
    if actors[2] and len(gc) > 9:  # the actor words' balance (nlp.learned.actor_side)
        g += gc[9] * actors[2]
    p_gov = 1.0 / (1.0 + _exp(-g)) if g > -700.0 else 0.0
    scale = p_gov / sum(ez)
    p_dom = [e * scale for e in ez]
    p_other = 1.0 - p_gov
    p_dom.append(p_other)
    scores = dict(zip(DOMAINS, p_dom))
    p_dom.pop()
    top_p = max(p_dom)
    best_gov = p_dom.index(top_p)  # first in DOMAINS order on ties
    winner = "other" if p_other > top_p * clf._other_factor else GOVERNMENT_DOMAINS[best_gov]

    by_lexicon = lexicon_terms(raw, hits_in_order, fired, seen)
    # The learned tokens shown are those that pushed the winner: towards its domain
    # over the runner-up, or (winner 'other') away from government dishonesty.
    if winner == "other":
        pushed = [(x, t) for t, v in learned.items() if (x := -m_gate * v[-1]) > 0.0]
    else:
        p_dom[best_gov] = -1.0
        second = p_dom.index(max(p_dom))
        pushed = [(x, t) for t, v in learned.items() if (x := m_nb * (v[best_gov] - v[second])) > 0.0]
    strong = [p for p in pushed if p[0] >= MIN_LEARNED_PUSH]
    # no lexicon term and no strong word: the strongest word that pushed at all, so a
    # decision is never shown without a reason
    pushed = strong or ([max(pushed)] if pushed and not by_lexicon.get(winner) else [])
    terms_by_domain = by_lexicon
    if pushed:
        terms_by_domain = dict(by_lexicon)
        terms_by_domain[winner] = _merge_terms(norm, by_lexicon.get(winner, []), pushed)
    return Classification(
        domain=winner,
        confidence=scores[winner],
        scores=scores,
        terms=list(terms_by_domain.get(winner, [])),
        terms_by_domain=terms_by_domain,
    )


def decide_lexicon(clf: Any, norm: str, raw: dict[str, float], hits_in_order, fired, seen) -> Classification:
    """The lexicon alone (no learned weights): the original scoring."""
    if HAS_CONTENT.search(norm):
        raw["other"] += clf._other_prior

    vals = [v if v > 0.0 else 0.0 for v in raw.values()]  # DOMAINS order
    total = sum(vals)
    if total <= 0:
        return Classification("other", 0.0, dict(EMPTY_SCORES), [], {})
    top = max(vals)
    winner = DOMAINS[vals.index(top)]  # first in DOMAINS order on ties
    second = sorted(vals)[-2]
    share = top / total
    margin = (top - second) / top
    strength = 1.0 - math.exp(-top / clf._scale)
    confidence = max(0.0, min(1.0, strength * (0.5 * share + 0.5 * margin)))
    scores = dict(zip(DOMAINS, [v / total for v in vals]))
    terms_by_domain = lexicon_terms(raw, hits_in_order, fired, seen)
    return Classification(
        domain=winner,
        confidence=confidence,
        scores=scores,
        terms=list(terms_by_domain.get(winner, [])),
        terms_by_domain=terms_by_domain,
    )


# Learned tokens shown as evidence: at most this many, each pushing the decision by at
# least this much (log-odds; 0.7 ~ doubles the odds), so the list stays short and real;
# when no word reaches that and the lexicon matched nothing, the strongest one is shown.
MAX_LEARNED_TERMS = 4
MIN_LEARNED_PUSH = 0.7


def _merge_terms(norm: str, terms: list[str], pushed: list[tuple[float, str]]) -> list[str]:
    """Lexicon terms plus the learned tokens that pushed hardest ((push, token) pairs), in
    order of first appearance; a token overlapping a shown term (工程款 / 拖欠工程款) is
    not repeated."""
    # Runs for nearly every complaint: plain loops and tuple sorts instead of key lambdas and
    # any(generator) keep it a fraction of a microsecond (the 1.5x-of-jieba budget).
    shown = list(terms)
    added = 0
    for _, t in sorted([(-x, t) for x, t in pushed]):  # hardest push first, ties by token
        if added >= MAX_LEARNED_TERMS:
            break
        for s in shown:
            if t in s or s in t:
                break
        else:
            shown.append(t)
            added += 1
    if not added:
        return shown
    end = len(norm)
    keyed = []
    for i, t in enumerate(shown):
        at = norm.find(t)
        keyed.append((at if at >= 0 else end, i, t))
    keyed.sort()
    return [t for _, _, t in keyed]
