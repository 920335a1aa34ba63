"""Complaint classifier: jieba segmentation, the curated lexicon (weighted terms +
rules) and, when ``nlp/data/weights.json`` is shipped, term weights learned from real
complaints (``nlp.learned``) that turn both into calibrated probabilities.

One ``jieba.Tokenizer`` per :class:`Classifier`, initialised lazily and once, with
the packaged user dictionary loaded into it.  Classification is a single
``tokenizer.lcut(text, HMM=False)`` followed by dictionary look-ups: each distinct
token is resolved once (memoised) to the lexicon strings it contains.
"""

from __future__ import annotations

import logging
import math
from math import exp as _exp
from math import log as _log
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import jieba
from jieba import re_eng as _RE_ENG
from jieba import re_han_default as _RE_HAN
from jieba import re_skip_default as _RE_SKIP

from .learned import DEFAULT_WEIGHTS_PATH, LearnedWeights, is_evidence_token
from .lexicon import (
    DEFAULT_USERDICT_PATH,
    DOMAINS,
    GENERIC_DEPARTMENT_WORDS,
    GOVERNMENT_DOMAINS,
    Lexicon,
    normalize_term,
)

jieba.setLogLevel(logging.WARNING)

__all__ = ["Classification", "Classifier", "normalize_text"]

_MEMO_LIMIT = 200_000
_NO_FEATURES: tuple = ((), ())
_EMPTY_SCORES = {d: (1.0 if d == "other" else 0.0) for d in DOMAINS}
_HAS_CONTENT = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")


# --------------------------------------------------------------------------- text
_T2S: dict[int, str] | None = None
_T2S_LOCK = threading.Lock()


def _t2s_table() -> dict[int, str]:
    """Single-character traditional->simplified map from OpenCC's TSCharacters
    (characters whose conversion is ambiguous, e.g. 乾, are left alone)."""
    global _T2S
    if _T2S is None:
        with _T2S_LOCK:
            if _T2S is None:
                import opencc  # opencc-python-reimplemented: a declared dependency, ships the tables

                table: dict[int, str] = {}
                path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
                with path.open(encoding="utf-8") as fh:
                    for line in fh:
                        key, _, cands = line.rstrip("\n").partition("\t")
                        options = cands.split()
                        if len(key) == 1 and options and key not in options and len(options[0]) == 1:
                            table[ord(key)] = options[0]
                _T2S = table
    return _T2S


_FOLD: dict[int, int | str] | None = None


def _fold_table() -> dict[int, int | str]:
    global _FOLD
    if _FOLD is None:
        table: dict[int, int | str] = dict(_t2s_table())
        # full-width digits and letters -> ASCII (punctuation is left alone: jieba
        # treats full- and half-width punctuation alike)
        for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)):
            for cp in range(lo, hi + 1):
                table[cp] = cp - 0xFEE0
        for cp in range(0xFF21, 0xFF3B):  # full-width A-Z -> a-z
            table[cp] = cp - 0xFEE0 + 32
        for cp in range(ord("A"), ord("Z") + 1):
            table[cp] = cp + 32
        _FOLD = table
    return _FOLD


# Characters that still need folding in GB2312-encodable text: full-width letters/digits and
# the few traditional characters GB2312 also contains (後, 摺, ...).
_NEEDS_FOLD_IN_GB = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a吒後捱摺榘甯菸醣麴]")


# Traditional characters whose simplification depends on the word (乾隆 vs 乾脆 -> 干脆,
# 於 as a surname, ...): OpenCC's phrase-aware t2s decides these; everything else is 1:1.
_AMBIGUOUS = re.compile("[乾剋夥彷徵於牴瞭祇薹藉衹覆阪麽]")
_OPENCC = None


def _phrase_t2s(text: str) -> str:
    """OpenCC ``t2s`` (phrase level) when it keeps the length, so offsets still hold."""
    global _OPENCC
    if _OPENCC is None:
        import opencc  # opencc-python-reimplemented

        _OPENCC = opencc.OpenCC("t2s")
    out = _OPENCC.convert(text)
    return out if len(out) == len(text) else text


def normalize_text(text: str) -> str:
    """1:1 character fold (length preserved): traditional -> simplified,
    full-width letters/digits -> ASCII, lower-case.

    Fast path: text that encodes as GB2312 has no traditional characters (bar the
    nine listed above), so unless it holds full-width forms only case folding is
    needed.  Otherwise one ``str.translate`` with OpenCC's character table, preceded
    by OpenCC's phrase-level t2s only when an ambiguous character (乾, 於, ...) occurs."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        if _AMBIGUOUS.search(text) is not None:  # rare: pay for OpenCC's phrase pass
            text = _phrase_t2s(text)
        return text.translate(_FOLD or _fold_table())
    if _NEEDS_FOLD_IN_GB.search(text) is None:
        return text.lower()  # (also lower-cases Greek/Cyrillic capitals GB2312 has; harmless)
    return text.translate(_FOLD or _fold_table())


# --------------------------------------------------------------------------- result
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


# --------------------------------------------------------------------------- classifier
class Classifier:
    #: Below this confidence the bot should ask the citizen to pick the domain
    #: instead of guessing.  This value serves the lexicon alone (no weights.json):
    #: 0.30 ~ "one clear domain term, or several with a margin".  With learned weights
    #: the confidence is a calibrated probability and the instance takes the weights'
    #: threshold: the lowest confidence whose guesses were right >= 90% out-of-fold.
    CONFIDENCE_THRESHOLD: float = 0.30
    HMM: bool = False

    def __init__(
        self,
        lexicon: Lexicon,
        userdict_path: Path | str | None = None,
        extra_words: Iterable[str] = (),
        weights: LearnedWeights | None = None,
    ) -> None:
        self.lexicon = lexicon
        # Learned term weights (nlp/data/weights.json); None = the lexicon alone decides.
        self.weights = weights
        self._zero_vec = (0.0,) * len(GOVERNMENT_DOMAINS)
        self._multipliers: dict[int, tuple] = {}  # evidence-token count -> weights.multipliers(n)
        # 'other' wins when P(other) > P(best domain) * this (nlp.learned.other_wins)
        self._other_factor = math.exp(-weights.other_margin) if weights is not None else 1.0
        if weights is not None:  # a calibrated probability: the threshold says what it means
            self.CONFIDENCE_THRESHOLD = weights.confidence_threshold
        self._userdict_path = Path(userdict_path) if userdict_path is not None else None
        self._pending_words: list[str] = [normalize_term(w) for w in extra_words]
        self._tokenizer: jieba.Tokenizer | None = None
        self._init_lock = threading.Lock()
        self._memo: dict[str, tuple[tuple[str, ...], tuple]] = {}
        self._logf: dict[str, float] = {}  # word -> log(jieba frequency), see _segment

        # term -> [(domain, weight)], negatives, pattern tables
        index: dict[str, list[tuple[str, float]]] = {}
        for domain, table in lexicon.terms.items():
            for term, weight in table.items():
                index.setdefault(term, []).append((domain, weight))
        self._term_index = index
        self._neg_index = {t: tuple(ws.items()) for t, ws in lexicon.negative.items()}
        self._neg_terms = frozenset(self._neg_index)
        vocab = lexicon.vocabulary()
        self._suffixes = tuple(sorted(v[1:] for v in vocab if v.startswith("*")))
        self._exact = {v[1:]: v for v in vocab if v.startswith("=")}
        by_first: dict[str, list[str]] = {}
        for v in sorted(vocab, key=lambda s: (-len(s), s)):
            if v[0] not in "*=":
                by_first.setdefault(v[0], []).append(v)
        self._by_first = by_first
        self._rules = tuple(
            (r.domain, r.weight, r.none_of, r.all_of, frozenset().union(*r.all_of))
            for r in lexicon.rules
        )
        self._gov = lexicon.groups["government"]
        self._private = lexicon.groups["private"]
        self._stop = lexicon.stop_tokens
        sc = lexicon.scoring
        self._other_prior = sc["other_prior"]
        self._scale = sc["strength_scale"]
        self._private_factor = sc["private_only_factor"]
        self._private_bonus = sc["private_only_other_bonus"]
        self._no_actor_factor = sc["no_actor_factor"]

    # ------------------------------------------------------------------ setup
    @classmethod
    def default(cls) -> "Classifier":
        """Packaged lexicon + user dictionary.  Construction is cheap (jieba is
        initialised on first use); keep one instance and reuse it."""
        weights = LearnedWeights.load() if DEFAULT_WEIGHTS_PATH.is_file() else None
        return cls(Lexicon.default(), DEFAULT_USERDICT_PATH, extra_words=GENERIC_DEPARTMENT_WORDS, weights=weights)

    def _ensure_tokenizer(self) -> jieba.Tokenizer:
        tok = self._tokenizer
        if tok is not None:
            return tok
        with self._init_lock:
            if self._tokenizer is None:
                tok = jieba.Tokenizer()
                tok.initialize()
                if self._userdict_path is not None:
                    tok.load_userdict(str(self._userdict_path))
                # Anything in the lexicon the userdict lacks (edited lexicon, no
                # regenerated userdict) is still kept whole.
                self._add_to(tok, self.lexicon.dictionary_words())
                self._add_to(tok, self._pending_words)
                self._pending_words = []
                self._tokenizer = tok
            return self._tokenizer

    @staticmethod
    def _add_to(tok: jieba.Tokenizer, words: Iterable[str]) -> None:
        for w in words:
            w = normalize_term(w)
            if len(w) < 2 or " " in w or tok.FREQ.get(w):
                continue
            tok.add_word(w, max(5, 2 * tok.suggest_freq(w, tune=False)))

    def add_words(self, words: Iterable[str]) -> None:
        """Keep ``words`` (e.g. department names and aliases) whole when segmenting."""
        words = [normalize_term(w) for w in words if w]
        self._logf = {}
        with self._init_lock:
            if self._tokenizer is None:
                self._pending_words.extend(words)
                return
        self._add_to(self._tokenizer, words)

    def with_lexicon(self, lexicon: Lexicon) -> "Classifier":
        """A classifier for ``lexicon`` that segments like this one (its user words and
        department names included) plus the new lexicon's words; cheap (copies the
        tokenizer's dictionary instead of reloading it), for what-if evaluations."""
        return self._sharing_tokenizer(lexicon, self.weights)

    def with_weights(self, weights: LearnedWeights | None) -> "Classifier":
        """A classifier with other learned weights (None: lexicon only) that segments
        exactly like this one; cheap, for training and before/after comparisons."""
        return self._sharing_tokenizer(self.lexicon, weights)

    def _sharing_tokenizer(self, lexicon: Lexicon, weights: LearnedWeights | None) -> "Classifier":
        other = Classifier(lexicon, self._userdict_path, weights=weights)
        base = self._ensure_tokenizer()
        tok = jieba.Tokenizer()
        tok.FREQ = dict(base.FREQ)
        tok.total = base.total
        tok.user_word_tag_tab = dict(base.user_word_tag_tab)
        tok.initialized = True
        other._add_to(tok, lexicon.dictionary_words())
        other._tokenizer = tok
        return other

    # ------------------------------------------------------------------ matching
    def tokenize(self, text: str) -> list[str]:
        """jieba tokens of the normalised text (simplified, half-width, lower-case)."""
        self._ensure_tokenizer()
        return self._segment(normalize_text(text))

    def _segment(self, text: str) -> list[str]:
        """Exactly ``tokenizer.lcut(text, HMM=False)`` (jieba 0.42's DAG + max-probability
        route, same floating-point arithmetic and tie-breaking), but one fused pass per
        block with ``log(freq)`` memoised per word instead of jieba's get_DAG, calc's
        generator and a ``math.log`` per candidate: about a third cheaper.  A test checks
        token-for-token equality with jieba on the labelled sets."""
        tok = self._tokenizer
        if self.HMM:  # pragma: no cover - the classifier runs without HMM
            return tok.lcut(text, HMM=True)
        freq = tok.FREQ
        logtotal = _log(tok.total)
        lcache = self._logf
        out: list[str] = []
        append = out.append
        for blk in _RE_HAN.split(text):
            if not blk:
                continue
            if not _RE_HAN.match(blk):
                for x in _RE_SKIP.split(blk):
                    if _RE_SKIP.match(x):
                        append(x)
                    else:
                        out.extend(x)
                continue
            n = len(blk)
            score = [0.0] * (n + 1)
            end = [0] * (n + 1)
            for idx in range(n - 1, -1, -1):
                best = None
                best_x = idx
                i = idx
                frag = blk[idx]
                while frag in freq:
                    f = freq[frag]
                    if f:
                        lf = lcache.get(frag)
                        if lf is None:
                            lf = lcache[frag] = _log(f)
                        sc = lf - logtotal + score[i + 1]
                        if best is None or sc >= best:  # max() over (score, x): ties -> larger x
                            best, best_x = sc, i
                    i += 1
                    if i >= n:
                        break
                    frag = blk[idx:i + 1]
                if best is None:  # no dictionary word starts here: the single character
                    best = 0.0 - logtotal + score[idx + 1]
                score[idx] = best
                end[idx] = best_x
            x = 0
            buf = ""
            while x < n:
                y = end[x] + 1
                w = blk[x:y]
                if y - x == 1 and _RE_ENG.match(w):
                    buf += w
                else:
                    if buf:
                        append(buf)
                        buf = ""
                    append(w)
                x = y
            if buf:
                append(buf)
        return out

    def _entry(self, token: str) -> tuple[tuple[str, ...], tuple, tuple | None, tuple | None]:
        """Everything a token contributes, memoised: its lexicon strings and hits, its
        learned weights (the domain vector followed by the gate weight, or None) and, if it
        is an actor word, (the word it reads as, +1 private party / -1 government)."""
        feats, hits = self._features(token)
        weights = side = None
        w = self.weights
        if w is not None and token not in self._stop and is_evidence_token(token):
            weights = w.token_weights(token)  # 9 domain weights + the gate's, or None
            word = w.regional_words.get(token, token)
            if word in w.actor_words:
                side = (word, w.actor_words[word])
        return feats, hits, weights, side

    def _features(self, token: str) -> tuple[tuple[str, ...], tuple]:
        """Lexicon strings a token contains, plus the (feature, domain, weight) hits it
        contributes.  Within one token a term nested in a longer term of the same
        domain does not score again (拖欠工程款 scores once for debt, not also as
        拖欠 and 工程款), but every nested string still counts for groups/rules."""
        if token in self._stop or _DIGIT.search(token) is not None:
            # a number (phone, date, amount, 13912345678 containing 12345) is never evidence
            return _NO_FEATURES
        found: list[tuple[str, int, int]] = []  # (feature, start, end)
        by_first = self._by_first
        for i, ch in enumerate(token):
            for v in by_first.get(ch, ()):
                if token.startswith(v, i):
                    found.append((v, i, i + len(v)))
        exact = self._exact.get(token)
        if exact is not None:
            found.append((exact, 0, len(token)))
        for suf in self._suffixes:
            if token.endswith(suf):
                found.append(("*" + suf, len(token) - len(suf), len(token)))
        feats: list[str] = []
        for f, _, _ in found:
            if f not in feats:
                feats.append(f)
        hits: list[tuple[str, str, float]] = []
        claimed: dict[str, list[tuple[int, int]]] = {}
        for f, a, b in sorted(found, key=lambda x: (x[1] - x[2], x[1])):  # longest first
            for d, w in self._term_index.get(f, ()):
                spans = claimed.setdefault(d, [])
                if any(a >= x and b <= y for x, y in spans):
                    continue
                spans.append((a, b))
                if not any(h[0] == f and h[1] == d for h in hits):
                    hits.append((f, d, w))
        if not feats:
            return _NO_FEATURES
        order = {f: i for i, f in enumerate(feats)}
        hits.sort(key=lambda h: order[h[0]])
        return tuple(feats), tuple(
            ((f, d), d, w, token if f[0] == "*" else f.lstrip("=")) for f, d, w in hits
        )

    # ------------------------------------------------------------------ classify
    def classify(self, text: str) -> Classification:
        if self._tokenizer is None:
            self._ensure_tokenizer()
        norm = normalize_text(text) if text else ""
        return self._classify_normalized(norm, self._segment(norm))

    def classify_and_tokenize(self, text: str) -> tuple[Classification, list[str]]:
        """``classify(text)`` and ``tokenize(text)`` from one segmentation (a complaint needs both:
        its domain now, its tokens' fingerprint for duplicates later), at the cost of ``classify``."""
        if self._tokenizer is None:
            self._ensure_tokenizer()
        norm = normalize_text(text) if text else ""
        tokens = self._segment(norm)
        return self._classify_normalized(norm, tokens), tokens

    def _classify_normalized(self, norm: str, tokens: list[str]) -> Classification:
        raw, seen, hits_in_order, fired, learned, actors = self._lexicon_pass(norm, tokens)
        if self.weights is not None:
            if _HAS_CONTENT.search(norm) is None:
                return Classification("other", 0.0, dict(_EMPTY_SCORES), [], {})
            return self._decide_learned(norm, raw, actors, learned, hits_in_order, fired, seen)
        return self._decide_lexicon(norm, raw, hits_in_order, fired, seen)

    def evidence(self, text: str) -> tuple[list[str], dict[str, float], tuple[bool, bool]]:
        """What the learned model sees of a text: its distinct evidence tokens (in
        order), the lexicon's scores per domain (before 'other''s prior) and whether a
        government / a private actor is named.  Used for training, so it does not
        depend on any learned weights."""
        self._ensure_tokenizer()
        norm = normalize_text(text) if text else ""
        segmented = self._segment(norm)
        raw, actors = self._lexicon_pass(norm, segmented)[::5]
        tokens = dict.fromkeys(t for t in segmented if t not in self._stop and is_evidence_token(t))
        return list(tokens), raw, actors[:2]  # the actor words' side comes from the weights: training adds it

    def _lexicon_pass(self, norm: str, tokens: list[str]) -> tuple:
        """Over one segmentation (``tokens``, of ``norm``): lexicon scores per domain (after actor gating, before
        'other''s prior), features seen, (domain, term) hits, fired rules, the
        learned weights of the distinct evidence tokens, and (government actor named,
        private actor named, the actor words' side: see nlp.learned.actor_side)."""
        memo = self._memo
        seen: dict[str, str] = {}  # feature -> token it first appeared in (ordered)
        found: list[tuple] = []  # memoised (key, domain, weight, shown) hits, in order

        learned: dict[str, tuple] = {}  # evidence token -> its learned weights, once per text
        sides: dict[str, int] = {}  # actor word (as read) -> its side, once per text
        for token in tokens:  # == tokenizer.lcut(norm, HMM=False)
            entry = memo.get(token)
            if entry is None:
                if len(memo) > _MEMO_LIMIT:
                    memo.clear()
                entry = memo[token] = self._entry(token)
            feats, hits, weights, side = entry
            if weights is not None:
                learned[token] = weights
            if side is not None:
                sides[side[0]] = side[1]
            if not feats:
                continue
            for f in feats:
                if f not in seen:
                    seen[f] = token
            found.extend(hits)

        raw = dict.fromkeys(DOMAINS, 0.0)
        hits_in_order: list[tuple[str, str]] = []  # (domain, shown term)
        for _key, d, w, shown in dict.fromkeys(found):  # each (term, domain) once per text
            raw[d] += w
            hits_in_order.append((d, shown))

        keys = set(seen)
        neg_index = self._neg_index
        if not self._neg_terms.isdisjoint(keys):
            for f in seen:
                for d, w in neg_index.get(f, ()):
                    raw[d] -= w

        fired: list[tuple[str, list[str]]] = []
        for domain, weight, none_of, all_of, members in self._rules:
            if members.isdisjoint(keys) or (none_of and not none_of.isdisjoint(keys)):
                continue
            for group in all_of:
                if group.isdisjoint(keys):
                    break
            else:
                raw[domain] += weight
                fired.append((domain, [f for f in seen if f in members]))

        gov = not self._gov.isdisjoint(keys)
        private = not self._private.isdisjoint(keys)
        if private and not gov:
            for d in GOVERNMENT_DOMAINS:
                raw[d] *= self._private_factor
            raw["other"] += self._private_bonus
        elif not gov and not private:
            for d in GOVERNMENT_DOMAINS:
                raw[d] *= self._no_actor_factor
        balance = sum(sides.values())
        return raw, seen, hits_in_order, fired, learned, (gov, private, (balance > 0) - (balance < 0))

    def _lexicon_terms(self, raw: dict[str, float], hits_in_order, fired, seen) -> dict[str, list[str]]:
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

    def _decide_learned(self, norm: str, raw: dict[str, float], actors: tuple, learned: dict[str, tuple],
                        hits_in_order, fired, seen) -> Classification:
        """Calibrated probabilities from the learned weights plus the lexicon (see
        nlp.learned); the explanation is the lexicon terms and the learned tokens that
        pushed the winner ahead of its runner-up."""
        # The combination of nlp.learned.combine, inlined with precomputed constants: this
        # runs for every complaint and must stay within 1.5x of bare jieba.
        w = self.weights
        n = len(learned)
        if n:
            sums = [sum(col) for col in zip(*learned.values())]
            nb_gate = sums.pop()
        else:
            sums, nb_gate = self._zero_vec, 0.0
        mult = self._multipliers.get(n)
        if mult is None:
            mult = self._multipliers[n] = w.multipliers(n)
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
        winner = "other" if p_other > top_p * self._other_factor else GOVERNMENT_DOMAINS[best_gov]

        lexicon_terms = self._lexicon_terms(raw, hits_in_order, fired, seen)
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
        pushed = strong or ([max(pushed)] if pushed and not lexicon_terms.get(winner) else [])
        terms_by_domain = lexicon_terms
        if pushed:
            terms_by_domain = dict(lexicon_terms)
            terms_by_domain[winner] = _merge_terms(norm, lexicon_terms.get(winner, []), pushed)
        return Classification(
            domain=winner,
            confidence=scores[winner],
            scores=scores,
            terms=list(terms_by_domain.get(winner, [])),
            terms_by_domain=terms_by_domain,
        )

    def _decide_lexicon(self, norm: str, raw: dict[str, float], hits_in_order, fired, seen) -> Classification:
        """The lexicon alone (no learned weights): the original scoring."""
        if _HAS_CONTENT.search(norm):
            raw["other"] += self._other_prior

        vals = [v if v > 0.0 else 0.0 for v in raw.values()]  # DOMAINS order
        total = sum(vals)
        if total <= 0:
            return Classification("other", 0.0, dict(_EMPTY_SCORES), [], {})
        top = max(vals)
        winner = DOMAINS[vals.index(top)]  # first in DOMAINS order on ties
        second = sorted(vals)[-2]
        share = top / total
        margin = (top - second) / top
        strength = 1.0 - math.exp(-top / self._scale)
        confidence = max(0.0, min(1.0, strength * (0.5 * share + 0.5 * margin)))
        scores = dict(zip(DOMAINS, [v / total for v in vals]))
        terms_by_domain = self._lexicon_terms(raw, hits_in_order, fired, seen)
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


def _merge_terms(norm: str, lexicon_terms: list[str], pushed: list[tuple[float, str]]) -> list[str]:
    """Lexicon terms plus the learned tokens that pushed hardest ((push, token) pairs), in
    order of first appearance; a token overlapping a shown term (工程款 / 拖欠工程款) is
    not repeated."""
    shown = list(lexicon_terms)
    added = 0
    for _, t in sorted(pushed, key=lambda p: (-p[0], p[1])):
        if added >= MAX_LEARNED_TERMS:
            break
        if not any(t in s or s in t for s in shown):
            shown.append(t)
            added += 1
    if not added:
        return shown
    return sorted(shown, key=lambda t: (norm.find(t) if t in norm else len(norm), shown.index(t)))
