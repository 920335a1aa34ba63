"""Complaint classifier: jieba segmentation, the curated lexicon (weighted terms +
rules) and, when ``nlp/data/weights.json`` is shipped, term weights learned from real
complaints (``nlp.learned``) that turn both into calibrated probabilities.

One ``jieba.Tokenizer`` per :class:`Classifier`, initialised lazily and once, with
the packaged user dictionary loaded into it.  Classification is a single
``tokenizer.lcut(text, HMM=False)`` followed by dictionary look-ups: each distinct
token is resolved once (memoised) to the lexicon strings it contains.

Around it: ``nlp.normalize`` (the text fold), ``nlp.segment`` (the fused jieba pass) and
``nlp.decision`` (the result, the learned and lexicon-only decisions, the explanation).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from pathlib import Path
from typing import Iterable

import jieba

from .decision import EMPTY_SCORES, HAS_CONTENT, Classification, decide_learned, decide_lexicon
from .learned import DEFAULT_WEIGHTS_PATH, LearnedWeights, is_evidence_token
from .lexicon import (
    DEFAULT_USERDICT_PATH,
    DOMAINS,
    GENERIC_DEPARTMENT_WORDS,
    GOVERNMENT_DOMAINS,
    Lexicon,
    normalize_term,
)
from .normalize import normalize_text
from .segment import segment

jieba.setLogLevel(logging.WARNING)

__all__ = ["Classification", "Classifier", "normalize_text"]

_MEMO_LIMIT = 200_000
_NO_FEATURES: tuple = ((), ())
_DIGIT = re.compile(r"\d")


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
        """Exactly ``tokenizer.lcut(text, HMM=False)`` (nlp.segment: one fused pass, about a
        third cheaper than jieba's own)."""
        if self.HMM:  # pragma: no cover - the classifier runs without HMM
            return self._tokenizer.lcut(text, HMM=True)
        return segment(self._tokenizer, text, self._logf)

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
        raw, seen, hits_in_order, fired, learned, actors, repeats = self._lexicon_pass(norm, tokens)
        if self.weights is not None:
            if HAS_CONTENT.search(norm) is None:
                return Classification("other", 0.0, dict(EMPTY_SCORES), [], {})
            return decide_learned(self, norm, raw, actors, learned, hits_in_order, fired, seen, repeats)
        return decide_lexicon(self, norm, raw, hits_in_order, fired, seen)

    def evidence(self, text: str) -> tuple[list[str], dict[str, float], tuple[bool, bool]]:
        """What the learned model sees of a text: its distinct evidence tokens (in
        order), the lexicon's scores per domain (before 'other''s prior) and whether a
        government / a private actor is named.  Used for training, so it does not
        depend on any learned weights."""
        self._ensure_tokenizer()
        norm = normalize_text(text) if text else ""
        segmented = self._segment(norm)
        pass_ = self._lexicon_pass(norm, segmented)
        raw, actors = pass_[0], pass_[5]
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
        repeats: dict[str, int] = {}  # evidence token met more than once -> how often
        sides: dict[str, int] = {}  # actor word (as read) -> its side, once per text
        for token in tokens:  # == tokenizer.lcut(norm, HMM=False)
            entry = memo.get(token)
            if entry is None:
                if len(memo) > _MEMO_LIMIT:
                    memo.clear()
                entry = memo[token] = self._entry(token)
            feats, hits, weights, side = entry
            if weights is not None:
                if token in learned:  # met again: counted by decide_learned (sublinear tf)
                    repeats[token] = repeats.get(token, 1) + 1
                else:
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
        return raw, seen, hits_in_order, fired, learned, (gov, private, (balance > 0) - (balance < 0)), repeats
