"""L2-regularised logistic regression over sparse token counts, for training only.

``nlp.training`` adds these weights to its naive-Bayes tables (``TrainingSettings.lr_domain_weight``):
a multinomial logistic regression over the nine government domains, fitted on the same
features (evidence tokens and their bigram keys) as the naive-Bayes domain table.  Naive
Bayes counts every feature as independent evidence, so a word and the bigrams inside it,
or two words that always occur together, are counted twice; the regression fits the
weights jointly and shares the credit out.  Its coefficients are per feature, like the
naive-Bayes log-likelihoods, so the sum stays a token -> weights table: the bot reads it
from ``weights.json`` exactly as before and 判断依据 still names the words that decided.

numpy is imported here only (it is installed with matplotlib, a runtime dependency, and
declared in the ``training`` extra); the bot never imports this module.  Deterministic:
full-batch L-BFGS from zero with a fixed iteration budget, sums by ``numpy.bincount`` in a
fixed order, no randomness and no threads.
"""

from __future__ import annotations

from typing import Mapping, Sequence

__all__ = ["fit_multinomial"]


def _lbfgs(fg, x0, iterations: int, memory: int = 10, tol: float = 1e-6):
    """Minimise ``fg`` (x -> (loss, gradient)) by L-BFGS with Armijo backtracking."""
    import numpy as np

    x = x0.copy()
    f, g = fg(x)
    s_hist: list = []
    y_hist: list = []
    for _ in range(iterations):
        q = g.copy()
        alphas = []
        for s, y in reversed(list(zip(s_hist, y_hist))):
            rho = 1.0 / float(y.dot(s))
            a = rho * float(s.dot(q))
            q -= a * y
            alphas.append((rho, a, s, y))
        if s_hist:
            q *= float(s_hist[-1].dot(y_hist[-1])) / float(y_hist[-1].dot(y_hist[-1]))
        for rho, a, s, y in reversed(alphas):
            q += s * (a - rho * float(y.dot(q)))
        d = -q
        slope = float(g.dot(d))
        if slope >= 0:  # not a descent direction: restart from the gradient
            d, slope, s_hist, y_hist = -g, -float(g.dot(g)), [], []
        t = 1.0
        while True:
            xn = x + t * d
            fn, gn = fg(xn)
            if fn <= f + 1e-4 * t * slope or t < 1e-12:
                break
            t *= 0.5
        s, y = xn - x, gn - g
        if float(y.dot(s)) > 1e-12:
            s_hist.append(s)
            y_hist.append(y)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        x, f, g = xn, fn, gn
        if float(np.abs(g).max()) < tol:
            break
    return x


def fit_multinomial(rows: Sequence[Mapping[str, float]], labels: Sequence[int], n_classes: int,
                    sample_weights: Sequence[float], vocabulary: Sequence[str], l2: float,
                    iterations: int = 300) -> dict[str, tuple[float, ...]]:
    """Softmax regression (with a bias per class) of ``labels`` on the feature counts of
    ``rows``; returns feature -> coefficients centred over the classes (only differences
    between classes matter), for the features of ``vocabulary``.  The loss is the
    weighted mean log-loss plus ``l2`` times the squared coefficients."""
    import numpy as np

    index = {f: i for i, f in enumerate(vocabulary)}
    cols, vals, ptr = [], [], [0]
    for row in rows:
        for f, v in row.items():
            j = index.get(f)
            if j is not None:
                cols.append(j)
                vals.append(v)
        ptr.append(len(cols))
    n, v_count, c = len(rows), len(vocabulary), n_classes
    col = np.array(cols, dtype=np.int64)
    val = np.array(vals, dtype=np.float64)
    doc = np.repeat(np.arange(n), np.diff(np.array(ptr, dtype=np.int64)))
    y = np.array(labels, dtype=np.int64)
    onehot = np.zeros((n, c))
    onehot[np.arange(n), y] = 1.0
    sw = np.array(sample_weights, dtype=np.float64)
    total = float(sw.sum()) or 1.0

    def fg(theta):
        w = theta[:v_count * c].reshape(v_count, c)
        b = theta[v_count * c:]
        contrib = w[col] * val[:, None]
        z = np.empty((n, c))
        for k in range(c):
            z[:, k] = np.bincount(doc, weights=contrib[:, k], minlength=n)
        z += b
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        p = np.exp(z - lse[:, None])
        loss = -float((sw * (z[np.arange(n), y] - lse)).sum()) / total + l2 * float((w * w).sum())
        err = (p - onehot) * (sw / total)[:, None]
        gw = np.empty((v_count, c))
        for k in range(c):
            gw[:, k] = np.bincount(col, weights=err[doc, k] * val, minlength=v_count)
        gw += 2.0 * l2 * w
        return loss, np.concatenate([gw.ravel(), err.sum(axis=0)])

    theta = _lbfgs(fg, np.zeros(v_count * c + c), iterations)
    w = theta[:v_count * c].reshape(v_count, c)
    w = w - w.mean(axis=1, keepdims=True)
    return {f: tuple(float(x) for x in w[i]) for i, f in enumerate(vocabulary)}
