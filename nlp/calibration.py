"""Fitting the combination of ``nlp/data/weights.json`` and choosing its decision rules
(training only; split from ``nlp.training`` to keep each module readable).

- ``fit_domain`` / ``fit_gate``: the few coefficients that combine the summed token weights
  and the lexicon's scores (a multinomial logit for the domain, a logistic one for the gate,
  see nlp.learned), fitted by maximum likelihood on out-of-fold scores, which is what makes
  the output a calibrated probability;
- ``choose_margin``: the out-of-scope margin; ``choose_threshold``: the "ask the citizen"
  threshold; ``macro_f1``.

Pure Python, ``float`` arithmetic in a fixed order: the same samples give the same numbers.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from .lexicon import DOMAINS, GOVERNMENT_DOMAINS

__all__ = ["TARGET_PRECISION", "choose_margin", "choose_threshold", "fit_domain", "fit_gate", "macro_f1"]

TARGET_PRECISION = 0.90  # confident guesses should be right 9 times in 10
_G = len(GOVERNMENT_DOMAINS)
_GOV_INDEX = {d: i for i, d in enumerate(GOVERNMENT_DOMAINS)}


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


def fit_domain(samples: Sequence[Any]) -> list[float]:
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


def fit_gate(samples: Sequence[Any]) -> list[float]:
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


def macro_f1(gold: list[str], pred: list[str]) -> float:
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
        rows.append((margin, macro_f1(list(gold), list(pred)), tp / n_gold if n_gold else 0.0,
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
