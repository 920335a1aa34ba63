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
3. **Combination and calibration.** Summed token weights (a token met c times in the text
   weighted 1 + tf_scale * log c; times n^-length_power,
   n = the text's evidence tokens, so long narratives are not over-confident) and the
   lexicon scores are combined by a handful of coefficients (a multinomial logit for
   the domain, a logistic one for the gate), fitted by maximum likelihood on
   *out-of-fold* scores: 5 folds grouped by site, so each text is scored by tables that
   never saw its source.  Fitting on out-of-fold scores is what makes the output a
   calibrated probability.  ``alpha`` and ``length_power`` are picked from the settings'
   grid by the out-of-fold macro-F1 (the default grid is one point, see TrainingSettings).
4. **Out-of-scope margin.** 'other' wins when log P(other) - log P(best domain) > -margin;
   the margin is picked on the out-of-fold predictions of several fold assignments pooled
   (``margin_salts``) by :func:`choose_margin` (most 'other' texts found while 'other'
   precision and macro-F1 stay within limits).
5. **Threshold.** The "ask the citizen" threshold is the lowest confidence at which
   the out-of-fold guesses at or above it are right at least ``TARGET_PRECISION`` of
   the time.

Docs marked ``scored=False`` (supervisors' corrections) are added to the counts of
every fold but never scored out-of-fold.  Docs with ``weight < 1`` (the project's
written examples: short, typed like the bot's real input, but not real) are scored
and steady the calibration with that weight; the settings are chosen on the
full-weight (real) texts only.

The coefficients and decision rules are fitted by ``nlp.calibration``; the optional logistic
regression of the domain table (``TrainingSettings.lr_domain_weight``) is ``nlp.logistic``.

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

from .calibration import TARGET_PRECISION, choose_margin, choose_threshold
from .calibration import fit_domain as _fit_domain
from .calibration import fit_gate as _fit_gate
from .calibration import macro_f1 as _macro_f1
from .learned import (ACTOR_WORDS, LENGTH_CENTRE, REGIONAL_WORDS, SUBWORD_PREFIX, LearnedWeights, actor_side, combine,
                      boundary_keys, other_wins, subword_keys)
from .lexicon import DOMAINS, GOVERNMENT_DOMAINS

__all__ = ["Doc", "TrainingSettings", "choose_margin", "choose_threshold", "prepare", "train", "TARGET_PRECISION"]

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
    # keys of the character bigrams across token boundaries (nlp.learned.boundary_keys);
    # counted only with TrainingSettings.boundary_grams
    grams: tuple[str, ...] = ()
    singles: tuple[str, ...] = ()  # the grams of which one side is a one-character token
    tf: tuple[int, ...] = ()  # occurrences of each token in the text


@dataclass(frozen=True)
class TrainingSettings:
    # One setting, not a grid: with subwords every point of {0.1, 0.3, 1.0} x {0, 0.5} came
    # within 0.003 out-of-fold macro-F1 of the others, so a grid search on one fold
    # assignment picked by noise; 0.3 / 0.0 is the setting compared over three fold
    # assignments and on dev (docs/classifier.md).  Both remain settings to search.
    alphas: tuple[float, ...] = (0.3,)
    # 0.25 since the sixth round: with term frequencies (tf_scale) long texts' sums grow, and
    # a mild length normalisation gained out-of-fold and on dev (docs/classifier.md)
    length_powers: tuple[float, ...] = (0.25,)
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
    # the margin is chosen on the out-of-fold predictions of these fold assignments pooled (salts,
    # "" = the default one): on one assignment the choice moved between 0.2 and 0.4 with a few
    # texts (docs/classifier.md, sixth round)
    margin_salts: tuple[str, ...] = ("", "a", "b", "c", "d", "e")
    # the domain table's naive-Bayes log-likelihoods plus this times a multinomial logistic
    # regression's coefficients on the same features (nlp.logistic; 0 = naive Bayes alone).
    # 1.0 with l2 0.01: over six fold assignments out-of-fold macro-F1 +0.003 and on dev
    # (a train-only model) +0.004; weight 2.0 gained more out-of-fold but lost 0.012 on dev
    # (docs/classifier.md, fifth round)
    lr_domain_weight: float = 1.0
    lr_domain_l2: float = 1e-2
    # count the character bigram across each token boundary too (nlp.learned.boundary_keys)
    # False, True (every boundary) or "single" (only next to a one-character token); for
    # cross-validation only: the classifier does not read them (docs/classifier.md, sixth round)
    boundary_grams: bool | str = False
    # a token met c times in a text weighs 1 + tf_scale * log(c) times its table entries when a
    # text is scored (the tables still count document frequencies): a long narrative repeats
    # what it is about (村干部 five times, 派出所 once).  1.5 with length power 0.25, over six
    # fold assignments: out-of-fold macro-F1 0.786 -> 0.796, top-2 0.926 -> 0.933, 'other'
    # recall 0.862 -> 0.879; on dev (a train-only model) 0.830 -> 0.844, top-2 0.939 -> 0.955
    # (docs/classifier.md, sixth round)
    tf_scale: float = 1.5
    # the gate table's naive-Bayes log-ratios plus this times a binary logistic regression's
    # (government dishonesty against 'other') coefficient differences
    lr_gate_weight: float = 0.0
    lr_gate_l2: float = 1e-2
    # the same multiplier in the counts of both tables and in the logistic regression's rows:
    # out-of-fold +0.004 more but dev -0.005, so not used (evaluation setting)
    tf_train: float = 0.0
    # the domain calibration's sample weights times (mean class size / class size) ** this:
    # 0 = every text alike, 1 = every government domain alike
    class_balance: float = 0.0
    # salt of the site -> fold assignment ("" = the default assignment); cross-validation
    # (nlp.crossval) averages over several salts, because one assignment moves macro-F1 by ±0.005
    fold_salt: str = ""


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
        seg = lex_only.tokenize(text)
        tf = Counter(REGIONAL_WORDS.get(t, t) for t in seg)
        docs.append(Doc(tuple(tokens), tuple(raw[d] for d in DOMAINS), (*actors[:2], actor_side(tokens)), domain,
                        group, scored, weight, boundary_keys(seg), boundary_keys(seg, True),
                        tuple(tf[t] for t in tokens)))
    return docs


# --------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class _Tables:
    vectors: dict[str, tuple[float, ...]]
    gate: dict[str, float]


def _features(doc: Doc, subwords: bool) -> tuple[str, ...]:
    """What a doc counts as: its evidence tokens and (subwords) their bigram keys, once each."""
    if not subwords:
        return tuple(dict.fromkeys((*doc.tokens, *doc.grams)))
    return tuple(dict.fromkeys((*(k for t in doc.tokens for k in (t, *subword_keys(t))), *doc.grams)))


def _mults(doc: Doc, tf_scale: float) -> list[float]:
    """Each token's multiplier, 1 + tf_scale * log(its occurrences) (1 without counts)."""
    if not tf_scale or not doc.tf:
        return [1.0] * len(doc.tokens)
    return [1.0 + tf_scale * math.log(c) for c in doc.tf]


def _count(docs: Sequence[Doc], alpha: float, min_df: int, subwords: bool = False,
           subword_weight: float = 1.0, lr_weight: float = 0.0, lr_l2: float = 1e-2, tf_train: float = 0.0,
           gate_weight: float = 0.0, gate_l2: float = 1e-2) -> _Tables:
    """The two naive-Bayes tables over document frequencies of tokens (and bigram keys,
    their weights scaled by ``subword_weight``); with ``lr_weight`` the domain table also
    holds that times a logistic regression's coefficients (``_logistic_domain``)."""
    tables = _naive_bayes(docs, alpha, min_df, subwords, subword_weight, tf_train)
    if not lr_weight and not gate_weight:
        return tables
    lr = _logistic_domain(docs, sorted(tables.vectors), subwords, lr_l2, tf_train)
    vectors = {t: tuple(x + lr_weight * y for x, y in zip(v, lr[t])) for t, v in tables.vectors.items()}
    gate = tables.gate
    if gate_weight:
        lg = _logistic_domain(docs, sorted(tables.vectors), subwords, gate_l2, tf_train, gate=True)
        gate = {t: g + gate_weight * (lg[t][1] - lg[t][0]) for t, g in gate.items()}
    return _Tables(vectors, gate)


def _logistic_domain(docs: Sequence[Doc], vocabulary: list[str], subwords: bool,
                     l2: float, tf_train: float = 0.0, gate: bool = False) -> dict[str, tuple[float, ...]]:
    """Coefficients of a multinomial logistic regression over the nine government domains
    (government texts only, each with its calibration weight), on the feature counts the
    classifier sums at run time (a token's own key and its bigram keys)."""
    from .logistic import fit_multinomial  # numpy: training only

    gov = list(docs) if gate else [d for d in docs if d.domain != "other"]
    rows = []
    for d in gov:
        row: Counter = Counter()
        for t, m in zip(d.tokens, _mults(d, tf_train)):
            for k in ((t, *subword_keys(t)) if subwords else (t,)):
                row[k] += m
        row.update(d.grams)
        rows.append(row)
    if gate:  # government dishonesty (1) against 'other' (0)
        return fit_multinomial(rows, [int(d.domain != "other") for d in gov], 2, [d.weight for d in gov], vocabulary,
                               l2)
    return fit_multinomial(rows, [_GOV_INDEX[d.domain] for d in gov], _G, [d.weight for d in gov], vocabulary, l2)


def _naive_bayes(docs: Sequence[Doc], alpha: float, min_df: int, subwords: bool,
                 subword_weight: float, tf_train: float = 0.0) -> _Tables:
    weights = []  # per doc: feature -> its count (1, or the largest multiplier of its tokens)
    for d in docs:
        w: dict[str, float] = {}
        for t, m in zip(d.tokens, _mults(d, tf_train)):
            for k in ((t, *subword_keys(t)) if subwords else (t,)):
                if m > w.get(k, 0.0):
                    w[k] = m
        for k in d.grams:
            w.setdefault(k, 1.0)
        weights.append(w)
    docs = [dataclasses.replace(d, tokens=_features(d, subwords), grams=()) for d in docs]
    df_total: Counter = Counter()
    for doc in docs:
        df_total.update(doc.tokens)
    vocab = sorted(t for t, n in df_total.items() if n >= min_df)
    keep = set(vocab)
    by_domain = [Counter() for _ in range(_G)]
    gov, other = Counter(), Counter()
    for doc, w in zip(docs, weights):
        toks = {t: w[t] for t in doc.tokens if t in keep}
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


def _score(doc: Doc, tables: _Tables, length_power: float, subwords: bool = False, tf_scale: float = 0.0) -> _Scored:
    # the same sums as LearnedWeights.token_weights at run time
    keys = [(t, *subword_keys(t)) if subwords else (t,) for t in doc.tokens]
    mults = [1.0 + tf_scale * math.log(c) for c in doc.tf] if tf_scale and doc.tf else [1.0] * len(keys)
    known = [([k for k in ks if k in tables.vectors], m) for ks, m in zip(keys, mults)]
    known = [km for km in known if km[0]]
    n = len(known)
    f = n ** -length_power if n > 1 else 1.0
    nb = [0.0] * _G
    g = 0.0
    for ks, m in known:
        for k in ks:
            for i, x in enumerate(tables.vectors[k]):
                nb[i] += m * x
            g += m * tables.gate[k]
    for k in doc.grams:  # boundary bigrams: evidence too, but not counted in the length n
        v = tables.vectors.get(k)
        if v is not None:
            for i, x in enumerate(v):
                nb[i] += x
            g += tables.gate[k]
    lex = tuple(max(x, 0.0) for x in doc.raw[:_G])
    return _Scored(tuple(x * f for x in nb), g * f, tuple(nb), g, lex, max(doc.raw[DOMAINS.index("other")], 0.0),
                   doc.actors, n,
                   math.log1p(n) - LENGTH_CENTRE, doc.domain, doc.weight)


# --------------------------------------------------------------------------- folds
def _folds(docs: Sequence[Doc], k: int, salt: str = "") -> list[int]:
    """Fold of each doc (-1: extra rows, always trained on): groups in SHA-256 order (of
    salt + group), each to the fold with the fewest scored texts so far."""
    sizes: Counter = Counter(d.group for d in docs if d.scored)
    fold_of: dict[str, int] = {}
    load = [0] * k
    for group in sorted(sizes, key=lambda g: (hashlib.sha256((salt + g).encode()).hexdigest(), g)):
        i = min(range(k), key=lambda j: (load[j], j))
        fold_of[group] = i
        load[i] += sizes[group]
    return [fold_of[d.group] if d.scored else -1 for d in docs]


def _out_of_fold(docs: Sequence[Doc], folds: list[int], k: int, alpha: float, min_df: int,
                 length_power: float, subwords: bool = False, subword_weight: float = 1.0,
                 lr_weight: float = 0.0, lr_l2: float = 1e-2, tf_scale: float = 0.0,
                 tf_train: float = 0.0, gate_weight: float = 0.0, gate_l2: float = 1e-2) -> list[_Scored]:
    scored: list[_Scored | None] = [None] * len(docs)
    for i in range(k):
        tables = _count([d for d, f in zip(docs, folds) if f != i], alpha, min_df, subwords, subword_weight,
                        lr_weight, lr_l2, tf_train, gate_weight, gate_l2)
        for j, (d, f) in enumerate(zip(docs, folds)):
            if f == i:
                scored[j] = _score(d, tables, length_power, subwords, tf_scale)
    return [s for s in scored if s is not None]


# --------------------------------------------------------------------------- the model
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


def _balanced(samples: list[_Scored], power: float) -> list[_Scored]:
    """Government samples reweighted by (mean class weight / their class's weight) ** power."""
    if not power:
        return samples
    mass: Counter = Counter()
    for s in samples:
        if s.domain != "other":
            mass[s.domain] += s.weight
    mean = sum(mass.values()) / len(mass)
    return [dataclasses.replace(s, weight=s.weight * (mean / mass[s.domain]) ** power) if s.domain != "other" else s
            for s in samples]


@dataclass(frozen=True)
class Selection:
    """What the out-of-fold stage chose, and its predictions of the full-weight texts."""
    alpha: float
    length_power: float
    domain_coef: list
    gate_coef: list
    margin: float
    preds: list  # (winner, probability, ranked) per full-weight scored text
    gold: list
    probe: LearnedWeights  # the combination and margin without tables (for _predict)
    oof: list  # _Scored of every scored doc
    light: list  # indices (into oof) of the down-weighted texts


def usable(docs: Sequence[Doc], settings: TrainingSettings) -> list[Doc]:
    """The docs as ``settings`` count them (boundary bigrams dropped unless asked for)."""
    if settings.boundary_grams == "single":
        return [dataclasses.replace(d, grams=d.singles) for d in docs]
    return list(docs) if settings.boundary_grams else [dataclasses.replace(d, grams=()) if d.grams else d
                                                       for d in docs]


def select(docs: Sequence[Doc], settings: TrainingSettings = TrainingSettings(),
           log=lambda _msg: None) -> Selection:
    """Steps 3-4 of the module docstring: out-of-fold scores (folds by ``settings.fold_salt``),
    the fitted combination, the chosen setting and 'other' margin."""
    docs = usable(docs, settings)
    scored_docs = [d for d in docs if d.scored]
    if len({d.group for d in scored_docs}) < settings.folds:
        raise ValueError(f"need texts from at least {settings.folds} sources to cross-validate")
    folds = _folds(docs, settings.folds, settings.fold_salt)
    main = [i for i, d in enumerate(scored_docs) if d.weight >= 1.0] or list(range(len(scored_docs)))
    best: tuple | None = None
    for alpha in settings.alphas:
        for power in settings.length_powers:
            oof = _out_of_fold(docs, folds, settings.folds, alpha, settings.min_df, power, settings.subwords,
                               settings.subword_weight, settings.lr_domain_weight, settings.lr_domain_l2,
                               settings.tf_scale, settings.tf_train, settings.lr_gate_weight,
                               settings.lr_gate_l2)
            dom, gate = _fit_domain(_balanced(oof, settings.class_balance)), _fit_gate(oof)
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
        # pooled over the extra fold assignments too: one assignment's choice moves with a few texts
        pooled = {m: [p[0] for p in ps] for m, ps, _ in per_margin}
        pooled_gold = list(gold)
        for salt in settings.margin_salts:
            if salt == settings.fold_salt:
                continue
            folds_s = _folds(docs, settings.folds, salt)
            oof_s = _out_of_fold(docs, folds_s, settings.folds, alpha, settings.min_df, power, settings.subwords,
                                 settings.subword_weight, settings.lr_domain_weight, settings.lr_domain_l2,
                                 settings.tf_scale, settings.tf_train, settings.lr_gate_weight, settings.lr_gate_l2)
            dom_s, gate_s = _fit_domain(_balanced(oof_s, settings.class_balance)), _fit_gate(oof_s)
            for m in pooled:
                probe_s = _weights(_Tables({}, {}), power, dom_s, gate_s, 0.5, {}, m)
                pooled[m] += [_predict(probe_s, oof_s[i])[0] for i in main]
            pooled_gold += [oof_s[i].domain for i in main]
        margin = choose_margin(list(pooled.items()), pooled_gold,
                               settings.margin_f1_tolerance, settings.other_precision_floor)
        _, preds, probe = next(x for x in per_margin if x[0] == margin)
        f = _figures(preds, gold)
        log(f"  'other' margin {margin}: out-of-fold macro-F1 {f['macro_f1']:.3f}, 'other' recall "
            f"{f['other_recall']}, precision {f['other_precision']}")
    else:
        margin = 0.0
    light = [i for i, d in enumerate(scored_docs) if d.weight < 1.0]
    return Selection(alpha, power, dom, gate, margin, preds, gold, probe, oof, light)


def train(docs: Sequence[Doc], settings: TrainingSettings = TrainingSettings(),
          log=lambda _msg: None, *, for_evaluation: bool = False) -> tuple[LearnedWeights, dict]:
    """Weights for ``docs`` (see the module docstring) and the out-of-fold figures
    that chose them.  Settings are compared on the full-weight texts (the real
    complaints): down-weighted ones (the written set) only steady the calibration."""
    if settings.boundary_grams and not for_evaluation:
        raise ValueError("boundary bigrams are for cross-validation only: the classifier does not read them")
    docs = usable(docs, settings)
    sel = select(docs, settings, log)
    alpha, power, dom, gate, margin, preds, gold, probe, oof, light = (
        sel.alpha, sel.length_power, sel.domain_coef, sel.gate_coef, sel.margin, sel.preds, sel.gold, sel.probe,
        sel.oof, sel.light)
    scored_docs = [d for d in docs if d.scored]
    main = [i for i, d in enumerate(scored_docs) if d.weight >= 1.0] or list(range(len(scored_docs)))
    threshold = choose_threshold([p[1] for p in preds], [p[0] == g for p, g in zip(preds, gold)])
    tables = _count(docs, alpha, settings.min_df, settings.subwords, settings.subword_weight,
                    settings.lr_domain_weight, settings.lr_domain_l2, settings.tf_train, settings.lr_gate_weight,
                    settings.lr_gate_l2)
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
    if settings.lr_domain_weight:
        meta["logistic_domain"] = {"weight": settings.lr_domain_weight, "l2": settings.lr_domain_l2}
    if settings.boundary_grams:
        meta["boundary_grams"] = True
    if settings.class_balance:
        meta["class_balance"] = settings.class_balance
    if settings.tf_scale:
        meta["tf_scale"] = settings.tf_scale
    weights = _weights(tables, power, dom, gate, threshold, meta, margin, settings.subwords)
    return dataclasses.replace(weights, tf_scale=settings.tf_scale) if settings.tf_scale else weights, meta
