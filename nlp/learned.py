"""Learned term weights (``nlp/data/weights.json``): what the classifier reads at run time.

Two naive-Bayes tables learned from the real-complaint corpus by ``nlp.training``
(``chengxin lexicon train``), each a plain token -> number(s) map, so that every
token's contribution to a decision can be shown:

- ``domains``: for each jieba token, its log-likelihood under each government domain
  (centred over the domains; only differences matter), the evidence for *which*
  kind of government dishonesty a complaint is;
- ``gate``: for each token, log P(token | government dishonesty) - log P(token | other),
  the evidence for *whether* the complaint is about government dishonesty at all
  (out-of-scope detection is this separate decision, not the absence of domain words).

Since issue 14's fifth round the ``domains`` table is the naive-Bayes log-likelihoods plus a
multinomial logistic regression's coefficients on the same features (``nlp.logistic``): still
one vector per token, read exactly as before.

Both are combined with the curated lexicon's scores (the prior knowledge) by a few
coefficients fitted on out-of-fold predictions, which also calibrates the result:
P(other) = sigmoid(-(gate score)), P(domain) = (1 - P(other)) x softmax(domain scores);
'other' wins when P(other) > P(best domain) x exp(-other_margin) (:func:`other_wins`).

With ``subwords`` (the default since issue 14's third round) each table also holds the
*character bigrams* of tokens of three or more characters, keyed ``~`` + bigram: a token's
weight is its own entry plus its bigrams' (:meth:`LearnedWeights.token_weights`), so
a word never seen in training (欠薪款, 拖數, a new bureau's name) still counts through
the pieces it shares with words that were (欠薪, 拖欠).  The explanation still shows the
whole token.

Only "evidence tokens" count: at least two characters, a Chinese character or a
letter, no digit, and not a bare numeral or unit (三个月, 万元, 20日): numbers, phone
numbers, dates and amounts say nothing about the domain.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .lexicon import DATA_DIR, GOVERNMENT_DOMAINS

__all__ = ["ACTOR_WORDS", "DEFAULT_WEIGHTS_PATH", "FUNCTION_WORDS", "REGIONAL_WORDS", "LearnedWeights", "actor_side",
           "boundary_keys", "is_evidence_token", "other_wins", "subword_keys"]

DEFAULT_WEIGHTS_PATH = DATA_DIR / "weights.json"
FORMAT = 1
LENGTH_CENTRE = 3.0  # log(1 + n) of a typical text (about 20 evidence tokens)

_WORDLIKE = re.compile(r"[\u4e00-\u9fffa-z]")
_DIGIT = re.compile(r"\d")
# Numerals, counters and calendar/money units: a token made only of these is a
# quantity (三个月, 两年, 十几万, 万元, 上午), never a topic.
_QUANTITY_CHARS = frozenset("零〇○一二两三四五六七八九十百千万亿几多余半个年月日号天周时分秒元块角毛整第每上下午点")

# Function words and the vocabulary of every complaint (反映, 领导, 问题...): frequent,
# topic-free, so never shown as the reason for a domain (shared with nlp.suggest).
FUNCTION_WORDS = frozenset(
    """的 了 是 在 我 我们 你 你们 他 他们 她 它 这 那 就 也 都 还 又 和 与 及 或 把 被 给 对 说 着 过 吧 呢 吗 啊 呀
    一个 一直 已经 没有 不 没 有 个 这个 那个 什么 怎么 现在 然后 但是 可是 因为 所以 如果 就是 还是 而且 自己 这样
    那样 这些 那些 一些 一下 一点 可以 能 会 要 想 让 去 来 到 从 向 跟 等 再 很 太 最 更 只 才 却 并 而 但 就要 还要
    问题 情况 时候 今年 去年 明年 目前 之前 以后 以前 后来 当时 已 多 少 上 下 里 中 后 前 年 月 日 号 天 元 万 块
    请 请问 希望 谢谢 麻烦 领导 相关 有关 部门 反映 投诉 举报 一次 两次 几次 好几 一年 两年 多年 结果 还有 这种 这么
    那么 为什么 怎么办 到底 真的 根本 完全 直接 一样 其他 另外 其中 每次 每个 所有 大家 人家 别人 我家 我司 公司
    记者 表示 进行 通过 以及 对于 并且 同时 今天 近日 日前 此前 随后 之后 该 其 此 这是 就是 一位 一名 以来""".split()
)


# Hong Kong / Taiwan / overseas words that OpenCC's character fold leaves apart from the
# mainland word of the same meaning (積欠 -> 积欠, never 拖欠): the learned tables count
# them as that word, so a Taiwan text about 积欠 speaks with the evidence of every 拖欠 text.
# Only same-meaning pairs; training writes the map into weights.json (``regional_words``)
# and the tables are looked up through it, so weights and map always go together.
REGIONAL_WORDS: Mapping[str, str] = {
    "积欠": "拖欠", "拖数": "拖欠", "拖粮": "欠薪", "薪资": "工资", "包商": "承包商", "契约": "合同", "求偿": "索赔",
    "标案": "招标", "跳票": "食言", "延宕": "拖延", "工友": "工人", "联络": "联系", "网路": "网络", "升降机": "电梯",
    "派员": "派人", "承办人": "经办人", "渗水": "漏水", "天花": "天花板", "乡公所": "乡政府", "镇公所": "镇政府",
    "区公所": "区政府", "县府": "县政府", "市府": "市政府", "警员": "民警", "检方": "检察院", "入禀": "起诉",
    "楼宇": "楼房", "滋扰": "骚扰", "摆卖": "摆摊", "小贩": "摊贩", "新台币": "人民币",
}


# Who the text is about, as the gate's own feature (``actor_side``): words of a private
# party's dispute (a shop, a landlord, an employer, a flat's repairs) against words naming a
# government actor.  The gate's naive-Bayes table sees each of these words alone; counted
# against each other they say whether the text's grievance is with a private party or with
# the government, the guide's first question (rules 1, 5), and out-of-fold 'other' recall
# rose 0.835 -> 0.855 at the same precision (docs/classifier.md, fourth round).  Training
# writes the map into weights.json (``actor_words``), as it does the regional words.
ACTOR_WORDS: Mapping[str, int] = {
    **dict.fromkeys("""消费者 退款 售后 商家 店家 业主 物业 房东 租客 老板 雇主 维权 质量 购买 买了 邻居 开发商 卖家
                    商场 超市 餐厅 健身房 培训机构 装修 押金 合同 员工 工人 包工头""".split(), 1),
    **dict.fromkeys("""政府 镇政府 乡政府 区政府 县政府 市政府 村委会 街道办 干部 官员 部门 民警 城管 公务员 书记 镇长
                    局长 村干部 工作人员""".split(), -1),
}


def actor_side(tokens, actor_words: Mapping[str, int] = ACTOR_WORDS) -> int:
    """1 if the distinct (regional-folded) evidence tokens name more private-party words
    than government-actor words, -1 if fewer, 0 if as many."""
    balance = sum(actor_words.get(t, 0) for t in tokens)
    return (balance > 0) - (balance < 0)


def is_evidence_token(token: str) -> bool:
    """May this (normalised) jieba token count as evidence for a domain?"""
    if len(token) < 2 or _DIGIT.search(token) is not None or _WORDLIKE.search(token) is None:
        return False
    if token in FUNCTION_WORDS:
        return False
    return not all(ch in _QUANTITY_CHARS for ch in token)


SUBWORD_PREFIX = "~"  # jieba never puts "~" inside a word, so a bigram key meets no token


@lru_cache(maxsize=65536)
def subword_keys(token: str) -> tuple[str, ...]:
    """Table keys of an evidence token's character bigrams (tokens of 3+ characters only;
    each bigram once, and only bigrams that could be evidence themselves: no digits,
    quantities or function words)."""
    if len(token) < 3:
        return ()
    grams = dict.fromkeys(token[i:i + 2] for i in range(len(token) - 1))
    return tuple(SUBWORD_PREFIX + g for g in grams if is_evidence_token(g))


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def boundary_keys(tokens, single_only: bool = False) -> tuple[str, ...]:
    """Table keys of the character bigrams across token boundaries of one segmentation
    (the last character of a token and the first of the next, both Chinese characters),
    each once, only those that could be evidence: a word jieba split into single
    characters (欠/薪) or across a boundary still carries its bigrams."""
    keys: dict[str, None] = {}
    prev = ""
    for tok in tokens:
        if prev and tok and _cjk(prev[-1]) and _cjk(tok[0]) and (not single_only or len(prev) == 1 or len(tok) == 1):
            g = prev[-1] + tok[0]
            if is_evidence_token(g):
                keys[SUBWORD_PREFIX + g] = None
        prev = tok
    return tuple(keys)


def _rounded(x: float) -> float:
    # 4 significant digits: far below any difference that changes a decision; byte-stable
    return float(f"{x:.4g}")


@dataclass(frozen=True)
class LearnedWeights:
    """The shipped model.  ``domain_vectors[token]`` is aligned with ``domains``."""

    domains: tuple[str, ...]
    domain_vectors: Mapping[str, tuple[float, ...]]
    gate_weights: Mapping[str, float]
    # length normalisation: summed token weights are multiplied by n ** -length_power
    length_power: float
    # P(domain | government) = softmax(nb_mult * nb_d + lex_mult * lexicon_d + bias_d), where
    # nb_mult = a0 + a1*l and lex_mult = c0 + c1*l, l = log(1 + n) - LENGTH_CENTRE: how far to
    # trust the learned words against the lexicon depends on how much text there is
    domain_coef: tuple[float, float, float, float]
    domain_bias: tuple[float, ...]
    # P(government) = sigmoid((g0 + g1*l) * nb_gate + (h0 + h1*l) * max lexicon_gov
    #                         + (k0 + k1*l) * lexicon_other + gov_actor * [a government body
    #                         is named] + private_actor * [a private one is] + bias
    #                         [+ side * actor_side(tokens)]):
    # whether a government body is the accused is the first question of the guide; the
    # tenth coefficient (files from before it have nine) weighs the actor words' balance
    gate_coef: tuple[float, ...]
    # below this calibrated probability of being right the bot asks the citizen
    confidence_threshold: float
    meta: Mapping[str, Any] = field(default_factory=dict)
    # Out-of-scope is its own decision: 'other' wins when log P(other) - log P(best domain)
    # > -other_margin.  The probabilities stay calibrated; only the decision moves, by a
    # margin chosen out-of-fold (a complaint sent to officials wrongly costs more than one
    # the citizen is asked about).  0 = plain argmax.
    other_margin: float = 0.0
    # the tables also hold character bigrams of tokens (keys "~" + bigram, see subword_keys);
    # False for files written before them
    subwords: bool = False
    # regional word -> the mainland word it was counted as (REGIONAL_WORDS when trained);
    # empty for files written before the fold
    regional_words: Mapping[str, str] = field(default_factory=dict)
    # word -> +1 private party / -1 government actor (ACTOR_WORDS when trained) for the
    # gate's tenth coefficient; empty with nine coefficients
    actor_words: Mapping[str, int] = field(default_factory=dict)
    # a token met c times in a text weighs 1 + tf_scale * log(c) times its weights (sublinear
    # term frequency, issue 14's sixth round); 0 for files written before it: once per text
    tf_scale: float = 0.0

    def __post_init__(self) -> None:
        if tuple(self.domains) != GOVERNMENT_DOMAINS:
            raise ValueError(f"weights: domains must be {GOVERNMENT_DOMAINS}, got {self.domains}")
        n = len(self.domains)
        if len(self.domain_bias) != n or any(len(v) != n for v in self.domain_vectors.values()):
            raise ValueError("weights: every domain vector and the bias need one value per domain")
        if len(self.domain_coef) != 4 or len(self.gate_coef) not in (9, 10):
            raise ValueError("weights: domain_coef needs 4 numbers and gate_coef 9 or 10")
        if (len(self.gate_coef) == 10) != bool(self.actor_words):
            raise ValueError("weights: a tenth gate coefficient needs actor_words, and actor_words need it")

    # ------------------------------------------------------------------ files
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "about": "learned by `chengxin lexicon train` (nlp/training.py); see docs/classifier.md",
            "meta": self.meta,
            "length_power": _rounded(self.length_power),
            "subwords": self.subwords,
            "regional_words": dict(sorted(self.regional_words.items())),
            "actor_words": dict(sorted(self.actor_words.items())),
            **({"tf_scale": _rounded(self.tf_scale)} if self.tf_scale else {}),
            "combine": {
                "domain_coef": [_rounded(x) for x in self.domain_coef],
                "domain_bias": [_rounded(b) for b in self.domain_bias],
                "gate_coef": [_rounded(x) for x in self.gate_coef],
                "confidence_threshold": _rounded(self.confidence_threshold),
                "other_margin": _rounded(self.other_margin),
            },
            "domains": list(self.domains),
            "gate": {t: _rounded(w) for t, w in sorted(self.gate_weights.items())},
            "tokens": {t: [_rounded(x) for x in v] for t, v in sorted(self.domain_vectors.items())},
        }

    def dumps(self) -> str:
        """Deterministic text: sorted keys, fixed rounding, one token per line."""
        data = self.to_json()
        tokens = data.pop("tokens")
        gate = data.pop("gate")
        head = json.dumps(data, ensure_ascii=False, sort_keys=True)[:-1]
        lines = [head + ',\n "gate": {']
        lines.append(",\n".join(f"  {json.dumps(t, ensure_ascii=False)}: {json.dumps(w)}" for t, w in gate.items()))
        lines.append(' },\n "tokens": {')
        lines.append(",\n".join(f"  {json.dumps(t, ensure_ascii=False)}: {json.dumps(v)}" for t, v in tokens.items()))
        lines.append(" }\n}\n")
        return "\n".join(lines)

    def save(self, path: str | Path = DEFAULT_WEIGHTS_PATH) -> None:
        Path(path).write_text(self.dumps(), encoding="utf-8")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "LearnedWeights":
        if data.get("format") != FORMAT:
            raise ValueError(f"weights: unsupported format {data.get('format')!r}")
        c = data["combine"]

        def num(x: Any, where: str) -> float:
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise ValueError(f"weights: {where} must be a finite number")
            return float(x)

        return cls(
            domains=tuple(data["domains"]),
            domain_vectors={t: tuple(num(x, f"tokens[{t!r}]") for x in v) for t, v in data["tokens"].items()},
            gate_weights={t: num(w, f"gate[{t!r}]") for t, w in data["gate"].items()},
            length_power=num(data["length_power"], "length_power"),
            domain_coef=tuple(num(x, "domain_coef") for x in c["domain_coef"]),
            domain_bias=tuple(num(b, "domain_bias") for b in c["domain_bias"]),
            gate_coef=tuple(num(x, "gate_coef") for x in c["gate_coef"]),
            confidence_threshold=num(c["confidence_threshold"], "confidence_threshold"),
            meta=dict(data.get("meta") or {}),
            other_margin=num(c.get("other_margin", 0.0), "other_margin"),
            subwords=data.get("subwords", False) is True,
            regional_words=_regional_words(data.get("regional_words") or {}),
            actor_words=_actor_words(data.get("actor_words") or {}),
            tf_scale=num(data.get("tf_scale", 0.0), "tf_scale"),
        )

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS_PATH) -> "LearnedWeights":
        with Path(path).open(encoding="utf-8") as fh:
            data = _read_tables_by_line(fh)
            if data is None:  # not dumps()' layout (edited by hand): parse it whole
                fh.seek(0)
                data = json.load(fh)
            return cls.from_json(data)

    # ------------------------------------------------------------------ scoring
    def token_weights(self, token: str) -> tuple[float, ...] | None:
        """(9 domain weights..., gate weight) of an evidence token (a regional word read as
        the word it was counted as): its own entry plus, with subwords, its character
        bigrams'; None when none of them is known."""
        token = self.regional_words.get(token, token)
        keys = (token, *subword_keys(token)) if self.subwords else (token,)
        vecs = [v for k in keys if (v := self.domain_vectors.get(k)) is not None]
        gates = [g for k in keys if (g := self.gate_weights.get(k)) is not None]
        if not vecs and not gates:
            return None
        vec = [sum(col) for col in zip(*vecs)] if vecs else [0.0] * len(self.domains)
        return (*vec, sum(gates))

    def multipliers(self, n_tokens: int) -> tuple[float, float, float, float, float]:
        """(nb_mult, lex_mult, gate_nb_mult, gate_lex_gov_mult, gate_lex_other_mult) for a
        text with ``n_tokens`` distinct known evidence tokens; nb multipliers include the
        length normalisation."""
        f = n_tokens ** -self.length_power if n_tokens > 1 else 1.0
        ell = math.log1p(n_tokens) - LENGTH_CENTRE
        a0, a1, c0, c1 = self.domain_coef
        g0, g1, h0, h1, k0, k1 = self.gate_coef[:6]
        return (a0 + a1 * ell) * f, c0 + c1 * ell, (g0 + g1 * ell) * f, h0 + h1 * ell, k0 + k1 * ell

    def probabilities(self, nb: list[float], nb_gate: float, n_tokens: int,
                      lexicon_raw: Mapping[str, float], actors: tuple) -> tuple[float, list[float]]:
        """(P(other), [P(d) for d in domains]) from summed token weights, lexicon scores
        and (government actor named, private actor named[, actor_side])."""
        lex = [max(lexicon_raw[d], 0.0) for d in self.domains]
        return combine(self, nb, nb_gate, n_tokens, lex, max(lexicon_raw["other"], 0.0), actors)


def _read_tables_by_line(fh) -> dict[str, Any] | None:
    """The file's JSON with its two tables read one entry per line (the layout ``dumps``
    writes), each table key and number held once; None when the file is laid out otherwise.

    Parsed whole, the tables' lists and the duplicate keys and numbers cost the bot about
    5 MB of resident memory more, which the allocator keeps after they are freed."""
    head = fh.readline()
    if not head.startswith("{") or not head.endswith(",\n"):
        return None
    data = json.loads(head[:-2] + "}")
    numbers: dict[float, float] = {}
    table: dict[str, Any] | None = None
    for line in fh:
        line = line.strip()
        if line in ('"gate": {', '"tokens": {'):
            table = data[line[1:-4]] = {}
        elif line in ("}", "},") and table is not None:
            table = None
        elif table is not None:
            ((key, parsed),) = json.loads("{" + line.rstrip(",") + "}").items()
            if isinstance(parsed, list):
                parsed = tuple(numbers.setdefault(x, x) if isinstance(x, float) else x for x in parsed)
            elif isinstance(parsed, float):
                parsed = numbers.setdefault(parsed, parsed)
            table[sys.intern(key)] = parsed
        elif line != "}":
            return None
    return data if "gate" in data and "tokens" in data else None


def _regional_words(data: Any) -> dict[str, str]:
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError("weights: regional_words must map words to words")
    return dict(data)


def _actor_words(data: Any) -> dict[str, int]:
    if not isinstance(data, dict) or not all(isinstance(k, str) and v in (1, -1) and not isinstance(v, bool)
                                             for k, v in data.items()):
        raise ValueError("weights: actor_words must map words to 1 or -1")
    return dict(data)


def other_wins(p_other: float, best_domain_p: float, other_margin: float) -> bool:
    """The out-of-scope decision: P(other) against the best government domain, with the
    learned margin (see ``LearnedWeights.other_margin``)."""
    return p_other > best_domain_p * math.exp(-other_margin)


def combine(w: LearnedWeights, nb, nb_gate: float, n_tokens: int, lex, lex_other: float,
            actors: tuple) -> tuple[float, list[float]]:
    """The combination itself (the classifier inlines the same arithmetic; training and
    tests use this): P(other) and P(government domain)."""
    m_nb, m_lex, m_gnb, m_glg, m_glo = w.multipliers(n_tokens)
    z = [m_nb * s + m_lex * x + b for s, x, b in zip(nb, lex, w.domain_bias)]
    top = max(z)
    ez = [math.exp(v - top) for v in z]
    total = sum(ez)
    gc = w.gate_coef
    g = (m_gnb * nb_gate + m_glg * max(lex) + m_glo * lex_other
         + (gc[6] if actors[0] else 0.0) + (gc[7] if actors[1] else 0.0) + gc[8]
         + (gc[9] * actors[2] if len(gc) > 9 and len(actors) > 2 else 0.0))
    p_gov = 1.0 / (1.0 + math.exp(-g)) if g > -700 else 0.0
    return 1.0 - p_gov, [p_gov * e / total for e in ez]
