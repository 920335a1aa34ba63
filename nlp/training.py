"""Learning the term weights of ``nlp/data/weights.json`` (pure Python, deterministic).

``train(classifier, rows, extra=...)`` turns labelled texts into :class:`LearnedWeights`:

1. **Evidence.** Each text is segmented by the classifier's own jieba tokenizer
   (``Classifier.evidence``): its distinct evidence tokens (no numbers, dates,
   amounts, single characters) and the curated lexicon's score per domain.
2. **Counts.** Two multinomial naive-Bayes tables over document frequencies
   (a token counts once per text) with additive smoothing ``alpha``: which
   government domain (the nine domains, government texts only), and government
   dishonesty vs 'other' (the gate).  With ``subwords`` the counted features are the
   tokens plus the character bigrams of tokens of 3+ characters (``subword_keys``); a
   token's weight is the sum over its features (bigrams' scaled by ``subword_weight``),
   at run time as here.  Features seen in
   fewer than ``min_df`` texts are dropped: a word met once is an anecdote, not evidence.
3. **Combination and calibration.** Summed token weights (times n^-length_power,
   n = the text's evidence tokens, so long narratives are not over-confident) and the
   lexicon scores are combined by a handful of coefficients (a multinomial logit for
   the domain, a logistic one for the gate), fitted by maximum likelihood on
   *out-of-fold* scores: 5 folds grouped by site, so each text is scored by tables that
   never saw its source.  Fitting on out-of-fold scores is what makes the output a
   calibrated probability.  ``alpha`` and ``length_power`` are picked from the settings'
   grid by the out-of-fold macro-F1 (the default grid is one point, see TrainingSettings).
4. **Out-of-scope margin.** 'other' wins when log P(other) - log P(best domain) > -margin;
   the margin is picked on the same out-of-fold predictions by :func:`choose_margin`
   (most 'other' texts found while 'other' precision and macro-F1 stay within limits).
5. **Threshold.** The "ask the citizen" threshold is the lowest confidence at which
   the out-of-fold guesses at or above it are right at least ``TARGET_PRECISION`` of
   the time.

Docs marked ``scored=False`` (supervisors' corrections) are added to the counts of
every fold but never scored out-of-fold.  Docs with ``weight < 1`` (the project's
written examples: short, typed like the bot's real input, but not real) are scored
and steady the calibration with that weight; the settings are chosen on the
full-weight (real) texts only.

Everything iterates in sorted order and uses only ``float`` arithmetic, so the same
rows give a byte-identical weights file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .learned import (ACTOR_WORDS, LENGTH_CENTRE, REGIONAL_WORDS, SUBWORD_PREFIX, LearnedWeights, actor_side, combine,
                      other_wins, subword_keys)
from .lexicon import DOMAINS, GOVERNMENT_DOMAINS

__all__ = ["Doc", "TrainingSettings", "choose_margin", "choose_threshold", "prepare", "train", "TARGET_PRECISION"]

TARGET_PRECISION = 0.90  # confident guesses should be right 9 times in 10
FOLDS = 5
_G = len(GOVERNMENT_DOMAINS)
_GOV_INDEX = {d: i for i, d in enumerate(GOVERNMENT_DOMAINS)}


@dataclass(frozen=True)
class Doc:
    tokens: tuple[str, ...]  # distinct evidence tokens
    raw: tuple[float, ...]  # lexicon score per DOMAINS entry (before 'other''s prior)
    # a government / a private actor is named (lexicon groups), and actor_side of the tokens
    actors: tuple
    domain: str
    group: str  # site (real texts) or a name for extra rows; folds never split a group
    scored: bool  # scored out-of-fold and used for calibration
    weight: float = 1.0  # its weight in the calibration fits


@dataclass(frozen=True)
class TrainingSettings:
    # One setting, not a grid: with subwords every point of {0.1, 0.3, 1.0} x {0, 0.5} came
    # within 0.003 out-of-fold macro-F1 of the others, so a grid search on one fold
    # assignment picked by noise; 0.3 / 0.0 is the setting compared over three fold
    # assignments and on dev (docs/classifier.md).  Both remain settings to search.
    alphas: tuple[float, ...] = (0.3,)
    length_powers: tuple[float, ...] = (0.0,)
    min_df: int = 2
    folds: int = FOLDS
    # count the character bigrams of tokens too (nlp.learned.subword_keys), each bigram's
    # weights scaled by subword_weight: at 1.0 out-of-fold macro-F1 rose but a train-only
    # model lost on dev; at 0.5 out-of-fold gains as much and dev holds (docs/classifier.md)
    subwords: bool = True
    subword_weight: float = 0.5
    # candidate margins of the out-of-scope decision (LearnedWeights.other_margin), chosen
    # after the settings above, out-of-fold (see choose_margin)
    other_margins: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0)
    # the margin may cost at most this much macro-F1 and must keep 'other' precision at this
    margin_f1_tolerance: float = 0.01
    other_precision_floor: float = 0.85


def prepare(classifier: Any, rows: Iterable[tuple[str, str, str]], *, scored: bool = True,
            weight: float = 1.0) -> list[Doc]:
    """(text, domain, group) -> Doc, using a lexicon-only view of ``classifier``; regional
    words count as their mainland word (``REGIONAL_WORDS``, as ``token_weights`` reads them)."""
    lex_only = classifier.with_weights(None) if getattr(classifier, "weights", None) is not None else classifier
    docs = []
    for text, domain, group in rows:
        if domain not in DOMAINS:
            raise ValueError(f"unknown domain {domain!r}")
        tokens, raw, actors = lex_only.evidence(text)
        tokens = dict.fromkeys(REGIONAL_WORDS.get(t, t) for t in tokens)
        docs.append(Doc(tuple(tokens), tuple(raw[d] for d in DOMAINS), (*actors[:2], actor_side(tokens)), domain,
                        group, scored, weight))
    return docs


# --------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class _Tables:
    vectors: dict[str, tuple[float, ...]]
    gate: dict[str, float]


def _features(doc: Doc, subwords: bool) -> tuple[str, ...]:
    """What a doc counts as: its evidence tokens and (subwords) their bigram keys, once each."""
    if not subwords:
        return doc.tokens
    return tuple(dict.fromkeys(k for t in doc.tokens for k in (t, *subword_keys(t))))


def _count(docs: Sequence[Doc], alpha: float, min_df: int, subwords: bool = False,
           subword_weight: float = 1.0) -> _Tables:
    """The two naive-Bayes tables over document frequencies of tokens (and bigram keys,
    their weights scaled by ``subword_weight``)."""
    docs = [dataclasses.replace(d, tokens=_features(d, subwords)) for d in docs] if subwords else docs
    df_total: Counter = Counter()
    for doc in docs:
        df_total.update(doc.tokens)
    vocab = sorted(t for t, n in df_total.items() if n >= min_df)
    keep = set(vocab)
    by_domain = [Counter() for _ in range(_G)]
    gov, other = Counter(), Counter()
    for doc in docs:
        toks = [t for t in doc.tokens if t in keep]
        if doc.domain == "other":
            other.update(toks)
        else:
            by_domain[_GOV_INDEX[doc.domain]].update(toks)
            gov.update(toks)
    v = len(vocab)
    denom = [sum(c.values()) + alpha * v for c in by_domain]
    gov_denom, other_denom = sum(gov.values()) + alpha * v, sum(other.values()) + alpha * v
    vectors: dict[str, tuple[float, ...]] = {}
    gate: dict[str, float] = {}
    for t in vocab:
        logs = [math.log((by_domain[i][t] + alpha) / denom[i]) for i in range(_G)]
        mean = sum(logs) / _G
        scale = subword_weight if t.startswith(SUBWORD_PREFIX) else 1.0
        vectors[t] = tuple(scale * (x - mean) for x in logs)
        gate[t] = scale * (math.log((gov[t] + alpha) / gov_denom) - math.log((other[t] + alpha) / other_denom))
    return _Tables(vectors, gate)


@dataclass(frozen=True)
class _Scored:
    nb: tuple[float, ...]  # summed domain vectors, length-normalised (what the fits see)
    gate: float  # summed gate weights, length-normalised
    nb_sum: tuple[float, ...]  # the same, as summed (what the classifier computes)
    gate_sum: float
    lex: tuple[float, ...]  # lexicon score per government domain (>= 0)
    lex_other: float
    actors: tuple
    n: int  # known evidence tokens
    ell: float  # log(1 + n) - LENGTH_CENTRE
    domain: str
    weight: float


def _score(doc: Doc, tables: _Tables, length_power: float, subwords: bool = False) -> _Scored:
    # the same sums as LearnedWeights.token_weights at run time
    keys = [(t, *subword_keys(t)) if subwords else (t,) for t in doc.tokens]
    known = [[k for k in ks if k in tables.vectors] for ks in keys]
    known = [ks for ks in known if ks]
    n = len(known)
    f = n ** -length_power if n > 1 else 1.0
    nb = [0.0] * _G
    g = 0.0
    for ks in known:
        for k in ks:
            for i, x in enumerate(tables.vectors[k]):
                nb[i] += x
            g += tables.gate[k]
    lex = tuple(max(x, 0.0) for x in doc.raw[:_G])
    return _Scored(tuple(x * f for x in nb), g * f, tuple(nb), g, lex, max(doc.raw[DOMAINS.index("other")], 0.0),
                   doc.actors, n,
                   math.log1p(n) - LENGTH_CENTRE, doc.domain, doc.weight)


# --------------------------------------------------------------------------- folds
def _folds(docs: Sequence[Doc], k: int) -> list[int]:
    """Fold of each doc (-1: extra rows, always trained on): groups in SHA-256 order,
    each to the fold with the fewest scored texts so far."""
    sizes: Counter = Counter(d.group for d in docs if d.scored)
    fold_of: dict[str, int] = {}
    load = [0] * k
    for group in sorted(sizes, key=lambda g: (hashlib.sha256(g.encode()).hexdigest(), g)):
        i = min(range(k), key=lambda j: (load[j], j))
        fold_of[group] = i
        load[i] += sizes[group]
    return [fold_of[d.group] if d.scored else -1 for d in docs]


def _out_of_fold(docs: Sequence[Doc], folds: list[int], k: int, alpha: float, min_df: int,
                 length_power: float, subwords: bool = False, subword_weight: float = 1.0) -> list[_Scored]:
    scored: list[_Scored | None] = [None] * len(docs)
    for i in range(k):
        tables = _count([d for d, f in zip(docs, folds) if f != i], alpha, min_df, subwords, subword_weight)
        for j, (d, f) in enumerate(zip(docs, folds)):
            if f == i:
                scored[j] = _score(d, tables, length_power, subwords)
    return [s for s in scored if s is not None]


# --------------------------------------------------------------------------- calibration
def _minimise(loss_grad, x0: list[float], iterations: int = 300) -> list[float]:
    """Gradient descent with backtracking (deterministic, no dependencies); fine for the
    few-parameter convex problems here."""
    x = list(x0)
    loss, grad = loss_grad(x)
    step = 1.0
    for _ in range(iterations):
        norm2 = sum(g * g for g in grad)
        if norm2 < 1e-12:
            break
        while step > 1e-10:
            cand = [xi - step * gi for xi, gi in zip(x, grad)]
            c_loss, c_grad = loss_grad(cand)
            if c_loss <= loss - 0.5 * step * norm2:  # Armijo
                x, loss, grad = cand, c_loss, c_grad
                step *= 2.0
                break
            step *= 0.5
        else:
            break
    return x


_L2 = 0.01  # keeps the biases of rare domains finite


def _fit_domain(samples: Sequence[_Scored]) -> list[float]:
    """[a0, a1, c0, c1, bias_1..bias_9] of softmax((a0 + a1*l)*nb + (c0 + c1*l)*lex + bias)."""
    gov = [s for s in samples if s.domain != "other"]
    m = sum(s.weight for s in gov) or 1.0

    def loss_grad(x: list[float]):
        a0, a1, c0, c1 = x[:4]
        bias = x[4:]
        loss = 0.0
        grad = [0.0] * len(x)
        for s in gov:
            ma, mc = a0 + a1 * s.ell, c0 + c1 * s.ell
            z = [ma * nb + mc * lx + b for nb, lx, b in zip(s.nb, s.lex, bias)]
            top = max(z)
            ez = [math.exp(v - top) for v in z]
            total = sum(ez)
            y = _GOV_INDEX[s.domain]
            sw = s.weight
            loss -= sw * (z[y] - top - math.log(total))
            gnb = glx = 0.0
            for i in range(_G):
                p = sw * (ez[i] / total - (1.0 if i == y else 0.0))
                gnb += p * s.nb[i]
                glx += p * s.lex[i]
                grad[4 + i] += p
            grad[0] += gnb
            grad[1] += gnb * s.ell
            grad[2] += glx
            grad[3] += glx * s.ell
        loss = loss / m + _L2 * (sum(b * b for b in bias) + x[1] * x[1] + x[3] * x[3])
        grad = [g / m for g in grad]
        for i in range(_G):
            grad[4 + i] += 2 * _L2 * bias[i]
        grad[1] += 2 * _L2 * x[1]
        grad[3] += 2 * _L2 * x[3]
        return loss, grad

    return _minimise(loss_grad, [1.0, 0.0, 0.3, 0.0] + [0.0] * _G)


def _fit_gate(samples: Sequence[_Scored]) -> list[float]:
    """[g0, g1, h0, h1, k0, k1, gov_actor, private_actor, bias, side] of P(government) =
    sigmoid((g0 + g1*l)*nb_gate + (h0 + h1*l)*max lexicon_gov + (k0 + k1*l)*lexicon_other
    + gov_actor*[government named] + private_actor*[private named] + bias + side*actor_side)."""
    m = sum(s.weight for s in samples) or 1.0
    k = 10
    rows = []
    for s in samples:
        nb, lg, lo = s.gate, max(s.lex), s.lex_other
        rows.append(((nb, nb * s.ell, lg, lg * s.ell, lo, lo * s.ell, float(s.actors[0]), float(s.actors[1]), 1.0,
                      float(s.actors[2])), 0.0 if s.domain == "other" else 1.0, s.weight))

    def loss_grad(x: list[float]):
        loss = 0.0
        grad = [0.0] * k
        for f, y, sw in rows:
            z = sum(xi * fi for xi, fi in zip(x, f))
            # log(1 + e^z) - y*z, computed stably
            loss += sw * ((z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z))) - y * z)
            p = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
            for i in range(k):
                grad[i] += sw * (p - y) * f[i]
        # every coefficient but the bias (index 8) is regularised
        return (loss / m + _L2 * sum(v * v for i, v in enumerate(x) if i != 8),
                [g / m + (2 * _L2 * x[i] if i != 8 else 0.0) for i, g in enumerate(grad)])

    return _minimise(loss_grad, [0.5, 0.0, 0.3, 0.0, -0.3, 0.0, 0.0, 0.0, 0.0, 0.0])


def _weights(tables: _Tables, length_power: float, dom: list[float], gate: list[float],
             threshold: float, meta: dict, other_margin: float = 0.0, subwords: bool = False) -> LearnedWeights:
    return LearnedWeights(
        domains=GOVERNMENT_DOMAINS, domain_vectors=tables.vectors, gate_weights=tables.gate,
        length_power=length_power, domain_coef=tuple(dom[:4]), domain_bias=tuple(dom[4:]),
        gate_coef=tuple(gate), confidence_threshold=threshold, meta=meta, other_margin=other_margin,
        subwords=subwords, regional_words=dict(REGIONAL_WORDS), actor_words=dict(ACTOR_WORDS),
    )


def _predict(w: LearnedWeights, s: _Scored) -> tuple[str, float, list[str]]:
    """(winner, its probability, domains ranked) for an already-scored doc, exactly as
    the classifier computes it at run time."""
    p_other, p_dom = combine(w, s.nb_sum, s.gate_sum, s.n, s.lex, s.lex_other, s.actors)
    probs = dict(zip(GOVERNMENT_DOMAINS, p_dom))
    probs["other"] = p_other
    best = max(GOVERNMENT_DOMAINS, key=lambda d: (probs[d], -DOMAINS.index(d)))
    # the out-of-scope decision with its margin; then the rest by probability, as
    # Classification.ranked() orders them
    winner = "other" if other_wins(p_other, probs[best], w.other_margin) else best
    ranked = [winner] + sorted((d for d in DOMAINS if d != winner), key=lambda d: (-probs[d], DOMAINS.index(d)))
    return winner, probs[winner], ranked


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    f1s = []
    for d in DOMAINS:
        tp = sum(g == d and p == d for g, p in zip(gold, pred))
        ng, np_ = gold.count(d), pred.count(d)
        if ng or np_:
            prec = tp / np_ if np_ else 0.0
            rec = tp / ng if ng else 0.0
            f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def choose_margin(candidates: Sequence[tuple[float, list[str]]], gold: Sequence[str],
                  f1_tolerance: float = 0.01, precision_floor: float = 0.85) -> float:
    """The out-of-scope margin, from (margin, predictions) candidates (margins >= 0: the
    margin only ever moves texts to 'other'): the one that finds the most 'other' texts
    while 'other' precision stays at ``precision_floor`` and macro-F1 within
    ``f1_tolerance`` of the best candidate's.  A complaint about a neighbour sent to
    officials as a case costs more than a case the citizen is asked about, so recall of
    'other' is what the margin buys; the two limits say what it may cost.  Ties: the
    smaller shift; no candidate within the limits: 0 (plain argmax)."""
    rows = []
    for margin, pred in candidates:
        tp = sum(g == p == "other" for g, p in zip(gold, pred))
        n_pred, n_gold = pred.count("other"), list(gold).count("other")
        rows.append((margin, _macro_f1(list(gold), list(pred)), tp / n_gold if n_gold else 0.0,
                     tp / n_pred if n_pred else 0.0))
    best_f1 = max(r[1] for r in rows)
    ok = [r for r in rows if r[1] >= best_f1 - f1_tolerance and r[3] >= precision_floor]
    if not ok:
        return 0.0
    return max(ok, key=lambda r: (round(r[2], 6), -abs(r[0])))[0]


def choose_threshold(confidences: Sequence[float], correct: Sequence[bool],
                     target: float = TARGET_PRECISION) -> float:
    """Lowest confidence t such that the guesses with confidence >= t are right at
    least ``target`` of the time (0.5 if even the surest guesses miss it)."""
    pairs = sorted(zip(confidences, correct), key=lambda p: -p[0])
    best = None
    right = 0
    for i, (conf, ok) in enumerate(pairs, start=1):
        right += ok
        if right / i >= target:
            best = conf
    return round(best, 2) if best is not None else 0.5


def _figures(preds, gold) -> dict:
    n = len(gold) or 1
    pred = [p[0] for p in preds]
    other_gold, other_pred = gold.count("other"), pred.count("other")
    other_right = sum(g == p == "other" for g, p in zip(gold, pred))
    return {
        "n": len(gold),
        "accuracy": round(sum(p == g for p, g in zip(pred, gold)) / n, 4),
        "macro_f1": round(_macro_f1(gold, pred), 4),
        "top2": round(sum(g in p[2][:2] for p, g in zip(preds, gold)) / n, 4),
        "other_recall": round(other_right / other_gold, 4) if other_gold else None,
        "other_precision": round(other_right / other_pred, 4) if other_pred else None,
    }


def train(docs: Sequence[Doc], settings: TrainingSettings = TrainingSettings(),
          log=lambda _msg: None) -> tuple[LearnedWeights, dict]:
    """Weights for ``docs`` (see the module docstring) and the out-of-fold figures
    that chose them.  Settings are compared on the full-weight texts (the real
    complaints): down-weighted ones (the written set) only steady the calibration."""
    scored_docs = [d for d in docs if d.scored]
    if len({d.group for d in scored_docs}) < settings.folds:
        raise ValueError(f"need texts from at least {settings.folds} sources to cross-validate")
    folds = _folds(docs, settings.folds)
    main = [i for i, d in enumerate(scored_docs) if d.weight >= 1.0] or list(range(len(scored_docs)))
    best: tuple | None = None
    for alpha in settings.alphas:
        for power in settings.length_powers:
            oof = _out_of_fold(docs, folds, settings.folds, alpha, settings.min_df, power, settings.subwords,
                               settings.subword_weight)
            dom, gate = _fit_domain(oof), _fit_gate(oof)
            probe = _weights(_Tables({}, {}), power, dom, gate, 0.5, {})
            preds = [_predict(probe, oof[i]) for i in main]
            gold = [oof[i].domain for i in main]
            f1 = _macro_f1(gold, [p[0] for p in preds])
            log(f"  alpha {alpha:<4} length_power {power:<4} out-of-fold macro-F1 {f1:.3f}")
            key = (round(f1, 6), -alpha, -power)  # ties: the smoother, simpler setting
            if best is None or key > best[0]:
                best = (key, alpha, power, dom, gate, preds, gold, oof, probe)
    _, alpha, power, dom, gate, preds, gold, oof, probe = best
    per_margin = []
    for margin in settings.other_margins:
        probe_m = _weights(_Tables({}, {}), power, dom, gate, 0.5, {}, margin)
        per_margin.append((margin, [_predict(probe_m, oof[i]) for i in main], probe_m))
    if per_margin:
        margin = choose_margin([(m, [p[0] for p in ps]) for m, ps, _ in per_margin], gold,
                               settings.margin_f1_tolerance, settings.other_precision_floor)
        _, preds, probe = next(x for x in per_margin if x[0] == margin)
        f = _figures(preds, gold)
        log(f"  'other' margin {margin}: out-of-fold macro-F1 {f['macro_f1']:.3f}, 'other' recall "
            f"{f['other_recall']}, precision {f['other_precision']}")
    else:
        margin = 0.0
    threshold = choose_threshold([p[1] for p in preds], [p[0] == g for p, g in zip(preds, gold)])
    tables = _count(docs, alpha, settings.min_df, settings.subwords, settings.subword_weight)
    light = [i for i, d in enumerate(scored_docs) if d.weight < 1.0]
    digest = hashlib.sha256()
    for d in docs:
        digest.update(("\t".join((d.domain, d.group, f"{d.weight:g}", " ".join(d.tokens))) + "\n").encode("utf-8"))
    meta = {
        "texts": dict(Counter(scored_docs[i].domain for i in main).most_common()),
        "down_weighted_texts": len(light),
        "extra_texts": dict(Counter(d.domain for d in docs if not d.scored).most_common()),
        "alpha": alpha, "min_df": settings.min_df, "folds": settings.folds,
        "out_of_fold": _figures(preds, gold),
        "out_of_fold_down_weighted": _figures([_predict(probe, oof[i]) for i in light],
                                              [oof[i].domain for i in light]) if light else None,
        "threshold_rule": f"lowest confidence whose guesses at or above it were right >= "
                          f"{TARGET_PRECISION:.0%} out-of-fold",
        "data_sha256": digest.hexdigest(),
    }
    meta["texts"] = {d: meta["texts"].get(d, 0) for d in DOMAINS}
    meta["extra_texts"] = {d: meta["extra_texts"][d] for d in DOMAINS if d in meta["extra_texts"]}
    meta["other_margin"] = margin
    meta["subwords"] = settings.subwords
    if settings.subwords:
        meta["subword_weight"] = settings.subword_weight
    return _weights(tables, power, dom, gate, threshold, meta, margin, settings.subwords), meta
