"""Loading and validating the classification lexicon (``nlp/data/lexicon.json``).

Vocabulary strings are plain substrings of a jieba token, ``*suffix`` patterns
(the token ends with it, e.g. ``*局``) or ``=token`` exact-token matches (for
ambiguous single characters such as ``=判``, which must not fire inside 谈判).

The lexicon is data, not code; its format is documented in ``docs/classifier.md``.
:func:`Lexicon.load` validates everything it reads and raises :class:`ValueError`
naming the offending entry (unknown domain code, non-positive weight, unknown
group reference, duplicate key, ...).

Run ``python -m nlp.lexicon`` to regenerate ``nlp/data/userdict.txt`` from the
lexicon (every multi-character lexicon term becomes a jieba user-dictionary word).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

DOMAINS: tuple[str, ...] = (
    "procurement",
    "ppp",
    "bidding",
    "investment",
    "debt",
    "statistics",
    "township",
    "judgment",
    "conduct",
    "other",
)
GOVERNMENT_DOMAINS: tuple[str, ...] = tuple(d for d in DOMAINS if d != "other")

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_LEXICON_PATH = DATA_DIR / "lexicon.json"
DEFAULT_USERDICT_PATH = DATA_DIR / "userdict.txt"

# Groups the scorer itself relies on (actor gating).  Others are free-form.
REQUIRED_GROUPS = ("government", "private")

DEFAULT_SCORING: dict[str, float] = {
    "other_prior": 0.6,  # score 'other' gets for any non-empty text
    "strength_scale": 3.0,  # confidence saturation: strength = 1 - exp(-top / scale)
    "private_only_factor": 0.4,  # gov domains x this when only private actors are named
    "private_only_other_bonus": 1.5,  # added to 'other' in that case
    "no_actor_factor": 0.9,  # gov domains x this when no actor at all is named
}


def normalize_term(term: str) -> str:
    """Normalise a lexicon string the same way text is normalised before matching."""
    from .classifier import normalize_text  # same 1:1 fold as the text

    return normalize_text(term.strip())


@dataclass(frozen=True)
class Rule:
    """Co-occurrence rule: if every ``all_of`` group has a match (and no ``none_of``
    string matched), ``domain`` gets ``weight`` extra."""

    name: str
    domain: str
    weight: float
    all_of: tuple[frozenset[str], ...]
    none_of: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lexicon:
    terms: Mapping[str, Mapping[str, float]]  # domain -> term -> weight
    negative: Mapping[str, Mapping[str, float]]  # term -> domain -> weight (subtracted)
    groups: Mapping[str, frozenset[str]]  # group name -> strings
    rules: tuple[Rule, ...] = ()
    scoring: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SCORING))
    stop_tokens: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ loading
    @classmethod
    def default(cls) -> "Lexicon":
        return cls.load(DEFAULT_LEXICON_PATH)

    @classmethod
    def load(cls, path: str | Path) -> "Lexicon":
        path = Path(path)

        def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in pairs:
                if key in out:
                    raise ValueError(f"{path.name}: duplicate key {key!r}")
                out[key] = value
            return out

        with path.open(encoding="utf-8") as fh:
            data = json.load(fh, object_pairs_hook=no_duplicates)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Lexicon":
        if not isinstance(data, Mapping):
            raise ValueError("lexicon: top level must be an object")

        def weight(value: Any, where: str) -> float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{where}: weight must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{where}: weight must be positive, got {value!r}")
            return value

        def term(value: Any, where: str) -> str:
            if not isinstance(value, str) or not normalize_term(value).lstrip("*="):
                raise ValueError(f"{where}: term must be a non-empty string, got {value!r}")
            if any(ch.isdigit() for ch in value):
                # numbers are never evidence: 12345 (the hotline) matched inside 13912345678
                raise ValueError(f"{where}: a term may not contain digits, got {value!r}")
            return normalize_term(value)

        # domains ------------------------------------------------------------
        raw_domains = data.get("domains")
        if not isinstance(raw_domains, Mapping) or not raw_domains:
            raise ValueError("lexicon: 'domains' must be a non-empty object")
        terms: dict[str, dict[str, float]] = {d: {} for d in DOMAINS}
        labels: dict[str, str] = {}
        for code, spec in raw_domains.items():
            if code not in DOMAINS:
                raise ValueError(f"lexicon: unknown domain code {code!r} in 'domains'")
            if not isinstance(spec, Mapping) or not isinstance(spec.get("terms", {}), Mapping):
                raise ValueError(f"domains.{code}: must be an object with a 'terms' object")
            labels[code] = str(spec.get("label", code))
            for raw_term, w in spec.get("terms", {}).items():
                where = f"domains.{code}.terms[{raw_term!r}]"
                t = term(raw_term, where)
                if t in terms[code]:
                    raise ValueError(f"{where}: duplicate term after normalisation")
                terms[code][t] = weight(w, where)

        # groups -------------------------------------------------------------
        raw_groups = data.get("groups", {})
        if not isinstance(raw_groups, Mapping):
            raise ValueError("lexicon: 'groups' must be an object")
        groups: dict[str, frozenset[str]] = {}
        for name, members in raw_groups.items():
            if not isinstance(members, list) or not members:
                raise ValueError(f"groups.{name}: must be a non-empty list of strings")
            groups[name] = frozenset(term(m, f"groups.{name}[{m!r}]") for m in members)
        for name in REQUIRED_GROUPS:
            if name not in groups:
                raise ValueError(f"lexicon: required group {name!r} is missing")

        def expand(items: Any, where: str) -> frozenset[str]:
            if isinstance(items, str) or not isinstance(items, list) or not items:
                raise ValueError(f"{where}: must be a non-empty list")
            out: set[str] = set()
            for item in items:
                if isinstance(item, str) and item.startswith("@"):
                    if item[1:] not in groups:
                        raise ValueError(f"{where}: unknown group reference {item!r}")
                    out |= groups[item[1:]]
                else:
                    out.add(term(item, f"{where}[{item!r}]"))
            return frozenset(out)

        # rules --------------------------------------------------------------
        rules: list[Rule] = []
        seen_rules: set[str] = set()
        for i, spec in enumerate(data.get("rules", [])):
            if not isinstance(spec, Mapping):
                raise ValueError(f"rules[{i}]: must be an object")
            name = str(spec.get("name") or f"rule{i}")
            where = f"rules[{i}] ({name})"
            if name in seen_rules:
                raise ValueError(f"{where}: duplicate rule name")
            seen_rules.add(name)
            if spec.get("domain") not in DOMAINS:
                raise ValueError(f"{where}: unknown domain code {spec.get('domain')!r}")
            all_of = spec.get("all")
            if not isinstance(all_of, list) or not all_of:
                raise ValueError(f"{where}: 'all' must be a non-empty list of lists")
            rules.append(
                Rule(
                    name=name,
                    domain=spec["domain"],
                    weight=weight(spec.get("weight"), where),
                    all_of=tuple(expand(g, f"{where}.all[{j}]") for j, g in enumerate(all_of)),
                    none_of=expand(spec["none"], f"{where}.none") if "none" in spec else frozenset(),
                )
            )

        # negative terms -----------------------------------------------------
        negative: dict[str, dict[str, float]] = {}
        for i, spec in enumerate(data.get("negative", [])):
            if not isinstance(spec, Mapping):
                raise ValueError(f"negative[{i}]: must be an object")
            where = f"negative[{i}] ({spec.get('term')!r})"
            t = term(spec.get("term"), where)
            w = weight(spec.get("weight"), where)
            targets = spec.get("domains", list(GOVERNMENT_DOMAINS))
            if isinstance(targets, str) or not isinstance(targets, list) or not targets:
                raise ValueError(f"{where}: 'domains' must be a non-empty list")
            for d in targets:
                if d not in DOMAINS:
                    raise ValueError(f"{where}: unknown domain code {d!r}")
                negative.setdefault(t, {})[d] = w

        # scoring ------------------------------------------------------------
        scoring = dict(DEFAULT_SCORING)
        for key, value in (data.get("scoring") or {}).items():
            if key not in DEFAULT_SCORING:
                raise ValueError(f"scoring: unknown parameter {key!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"scoring.{key}: must be a non-negative number, got {value!r}")
            scoring[key] = float(value)
        if scoring["strength_scale"] <= 0:
            raise ValueError("scoring.strength_scale: must be positive")

        stop = data.get("stop_tokens", [])
        if not isinstance(stop, list):
            raise ValueError("stop_tokens: must be a list")

        return cls(
            terms=terms,
            negative=negative,
            groups=groups,
            rules=tuple(rules),
            scoring=scoring,
            stop_tokens=frozenset(term(s, f"stop_tokens[{s!r}]") for s in stop),
            labels=labels,
        )

    # ------------------------------------------------------------------ helpers
    def vocabulary(self) -> set[str]:
        """Every string the matcher looks for (terms, negatives, group members)."""
        vocab: set[str] = set()
        for table in self.terms.values():
            vocab.update(table)
        vocab.update(self.negative)
        for members in self.groups.values():
            vocab.update(members)
        for rule in self.rules:
            for g in rule.all_of:
                vocab.update(g)
            vocab.update(rule.none_of)
        return vocab

    def dictionary_words(self) -> list[str]:
        """Words that should be whole jieba tokens: all multi-character, non-pattern
        vocabulary entries ('=' exact-token entries included without the marker)."""
        words = {w.lstrip("=") for w in self.vocabulary() if not w.startswith("*")}
        return sorted(w for w in words if len(w) >= 2)


def write_userdict(
    lexicon: Lexicon,
    path: str | Path = DEFAULT_USERDICT_PATH,
    extra_words: Iterable[str] = (),
) -> int:
    """(Re)generate the jieba user dictionary for ``lexicon``; returns the word count.

    Frequencies are what jieba's ``suggest_freq`` says is needed to keep the word
    whole, times 2 as a margin (never below 5), computed against the stock
    dictionary.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    words = sorted(set(lexicon.dictionary_words()) | {normalize_term(w) for w in extra_words})
    lines = []
    for w in words:
        if " " in w:
            continue
        freq = max(5, 2 * tok.suggest_freq(w, tune=False))
        lines.append(f"{w} {freq}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# Generic department nicknames kept whole even when no department directory is
# loaded (the bot adds the real names/aliases through Classifier.add_words).
GENERIC_DEPARTMENT_WORDS = (
    "住建局", "区住建局", "市住建局", "县住建局", "财政局", "发改委", "市发改委", "城管局", "卫健委", "人社局",
    "教育局", "交通局", "水利局", "水务局", "民政局", "商务局", "招商局", "统计局", "审批局", "行政审批局",
    "市场监管局", "自然资源局", "自规局", "生态环境局", "环保局", "公安局", "公安分局", "国土局", "国土所",
    "交易中心", "投促中心", "投资促进中心", "信用办", "街道办", "管委会", "开发区管委会", "镇政府", "区政府",
    "县政府", "市政府", "中院", "执行局", "城投公司", "国投公司", "交投集团",
)


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    n = write_userdict(Lexicon.default(), extra_words=GENERIC_DEPARTMENT_WORDS)
    print(f"wrote {n} words to {DEFAULT_USERDICT_PATH}")
