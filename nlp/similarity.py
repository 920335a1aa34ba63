"""Near-duplicate complaints: MinHash fingerprints over jieba tokens + an LSH index.

Why MinHash (and not SimHash): a complaint is short (20-200 tokens) and a re-filed
complaint is "the same words, a few changed".  That is Jaccard similarity of token
sets, which MinHash estimates without bias and which LSH banding turns into a
sub-linear lookup with a tunable threshold.  SimHash approximates cosine similarity;
on short texts a handful of changed tokens flips many bits, so its Hamming radius has
to be wide, and a wide radius needs many permuted tables to search.  MinHash also
lets the index verify candidates by estimated Jaccard (``SimilarityIndex.query``)
and the caller confirm with the exact :func:`similarity`.

Details:
- shingles (:func:`shingles`): content tokens (no punctuation, no function words)
  and bigrams of consecutive content tokens;
- one-permutation MinHash with rotation densification (Shrivastava & Li 2014):
  each shingle is hashed once (stable 64-bit hash, so fingerprints can be stored),
  its top bits pick one of ``NUM_BINS`` bins, the rest compete for the bin minimum;
  each bin keeps 16 bits (b-bit MinHash: chance collisions 1/65536);
- LSH: the first ``bands * rows`` bins form ``bands`` bands of ``rows`` values; two
  texts become candidates when any band is identical.  With the default 10 x 3 a pair
  with Jaccard J is found with probability 1 - (1 - J^3)^10: 0.74 at J=0.5, 0.91 at
  0.6, 0.99 at 0.7, 0.08 at 0.2;
- candidates are scored by the share of equal bins over all ``NUM_BINS`` (standard
  error about 0.06) and kept when at/above ``threshold``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from array import array
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence

__all__ = ["Fingerprint", "SimilarityIndex", "shingles", "similarity", "NUM_BINS"]

NUM_BINS = 64
_BIN_SHIFT = 58  # 64 - log2(NUM_BINS)
_MASK64 = (1 << 64) - 1
_LOW16 = 0xFFFF
_EMPTY = -1
_CONTENT = re.compile(r"[^\W_]")
# Function words that carry no content for "is this the same complaint".
_STOP = frozenset(
    "的 了 是 在 我 我们 你 你们 他 他们 她 它 这 那 就 也 都 还 又 和 与 及 或 把 被 给 对 说 着 过 吧 呢 吗 啊 呀 "
    "一个 一直 已经 没有 不 没 有 个 这个 那个 什么 怎么 现在 然后 但是 可是 因为 所以 如果 就是 还是 而且 自己".split()
)

_HASH_CACHE: dict[str, int] = {}
_HASH_CACHE_LIMIT = 500_000


def _h(token: str) -> int:
    """Stable 64-bit hash of a token (cached)."""
    v = _HASH_CACHE.get(token)
    if v is None:
        if len(_HASH_CACHE) > _HASH_CACHE_LIMIT:
            _HASH_CACHE.clear()
        v = _HASH_CACHE[token] = int.from_bytes(
            hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little"
        )
    return v


def _mix(x: int) -> int:
    """splitmix64 finaliser: spreads a combined value over 64 bits."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK64
    return x ^ (x >> 31)


def _content(tokens: Iterable[str]) -> list[str]:
    return [t for t in (tok.strip().lower() for tok in tokens) if t and t not in _STOP and _CONTENT.search(t)]


def shingles(tokens: Iterable[str]) -> set[str]:
    """Content tokens plus bigrams of consecutive content tokens ('a b')."""
    c = _content(tokens)
    out = set(c)
    out.update(f"{a} {b}" for a, b in zip(c, c[1:]))
    return out


def _shingle_hashes(tokens: Iterable[str]) -> set[int]:
    hs = [_h(t) for t in _content(tokens)]
    out = set(hs)
    for a, b in zip(hs, hs[1:]):  # bigram: cheap stable combination of the two hashes
        x = (a * 0x9E3779B97F4A7C15 + b) & _MASK64
        out.add(x ^ (x >> 29))
    return out


def similarity(a_tokens: Iterable[str], b_tokens: Iterable[str]) -> float:
    """Exact Jaccard similarity of the two token lists' shingle sets (0..1)."""
    a, b = shingles(a_tokens), shingles(b_tokens)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# --------------------------------------------------------------------------- fingerprint
@dataclass(frozen=True)
class Fingerprint:
    """``NUM_BINS`` 16-bit MinHash values (one-permutation hashing, densified)."""

    values: tuple[int, ...]

    @classmethod
    def of(cls, tokens: Iterable[str]) -> "Fingerprint":
        return cls(tuple(_sketch(_shingle_hashes(tokens))))

    @property
    def empty(self) -> bool:
        return not any(self.values)

    def similarity(self, other: "Fingerprint") -> float:
        """Estimated Jaccard similarity (share of equal bins)."""
        return sum(a == b for a, b in zip(self.values, other.values)) / NUM_BINS

    def to_bytes(self) -> bytes:
        """Little-endian 16-bit values (stable across processes and machines)."""
        a = array("H", self.values)
        if sys.byteorder == "big":  # pragma: no cover
            a.byteswap()
        return a.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Fingerprint":
        a = array("H")
        a.frombytes(data)
        if sys.byteorder == "big":  # pragma: no cover
            a.byteswap()
        if len(a) != NUM_BINS:
            raise ValueError("fingerprint: wrong length")
        return cls(tuple(a))


def _sketch(hashes: set[int]) -> list[int]:
    """One-permutation MinHash over 64-bit shingle hashes, densified, 16 bits per bin."""
    if not hashes:
        return [0] * NUM_BINS
    bins = [_EMPTY] * NUM_BINS
    low = (1 << _BIN_SHIFT) - 1
    for h in hashes:
        i = h >> _BIN_SHIFT
        v = h & low
        cur = bins[i]
        if cur == _EMPTY or v < cur:
            bins[i] = v
    # rotation densification: an empty bin borrows the next non-empty bin to its right,
    # salted with the distance so borrowed values differ from the originals.  The low
    # 16 bits of a bin minimum are uniform (its high bits are not: a minimum is small).
    out = [0] * NUM_BINS
    for i in range(NUM_BINS):
        v = bins[i]
        if v != _EMPTY:
            out[i] = v & _LOW16
            continue
        d = 0
        while v == _EMPTY:
            d += 1
            v = bins[(i + d) % NUM_BINS]
        out[i] = (((v + d) * 0x9E3779B97F4A7C15 & _MASK64) >> 40) & _LOW16
    return out


# --------------------------------------------------------------------------- index
Tokenizer = Callable[[str], Sequence[str]]


def _default_tokenizer() -> Tokenizer:
    import jieba  # noqa: PLC0415 - lazy: only when raw text is given

    from .classifier import normalize_text

    return lambda text: jieba.lcut(normalize_text(text), HMM=False)


class SimilarityIndex:
    """LSH index of complaint fingerprints, optionally partitioned by ``group``
    (e.g. a department code: only complaints of the same group are compared)."""

    def __init__(self, bands: int = 10, rows: int = 3, tokenizer: Tokenizer | None = None) -> None:
        if bands < 1 or rows < 1 or bands * rows > NUM_BINS:
            raise ValueError(f"bands x rows must fit in {NUM_BINS} bins")
        self.bands, self.rows = bands, rows
        self._tokenizer = tokenizer
        self._buckets: list[dict[tuple, object]] = [{} for _ in range(bands)]
        # key -> (16-bit values, group, band keys); arrays/bytes keep 100k docs compact
        self._docs: dict[Hashable, tuple[array, Hashable, tuple]] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._docs

    # ------------------------------------------------------------------ helpers
    def fingerprint(self, text_or_tokens: str | Iterable[str]) -> Fingerprint:
        if isinstance(text_or_tokens, Fingerprint):
            return text_or_tokens
        if isinstance(text_or_tokens, str):
            if self._tokenizer is None:
                self._tokenizer = _default_tokenizer()
            text_or_tokens = self._tokenizer(text_or_tokens)
        return Fingerprint.of(text_or_tokens)

    def _band_keys(self, packed: bytes) -> tuple:
        w = 2 * self.rows  # bytes per band
        return tuple(packed[b * w:(b + 1) * w] for b in range(self.bands))

    # ------------------------------------------------------------------ mutate
    def add(self, key: Hashable, text_or_tokens: str | Iterable[str] | Fingerprint, group: Hashable = None) -> Fingerprint:
        """Index (or re-index) ``key``.  Returns its fingerprint (store it to rebuild
        the index later without re-tokenising: ``add(key, fingerprint, group)``)."""
        fp = self.fingerprint(text_or_tokens)
        if key in self._docs:
            self.remove(key)
        packed = fp.to_bytes()
        keys = self._band_keys(packed)
        for bucket, bk in zip(self._buckets, keys):
            cur = bucket.get(bk)
            if cur is None:
                bucket[bk] = key
            elif type(cur) is _Keys:
                cur.append(key)
            else:
                bucket[bk] = _Keys((cur, key))
        self._docs[key] = (array("H", fp.values), group, keys)
        return fp

    def remove(self, key: Hashable) -> bool:
        doc = self._docs.pop(key, None)
        if doc is None:
            return False
        for bucket, bk in zip(self._buckets, doc[2]):
            cur = bucket.get(bk)
            if cur is None:
                continue
            if type(cur) is _Keys:
                try:
                    cur.remove(key)
                except ValueError:
                    pass
                if len(cur) == 1:
                    bucket[bk] = cur[0]
                elif not cur:
                    del bucket[bk]
            elif cur == key:
                del bucket[bk]
        return True

    # ------------------------------------------------------------------ query
    def query(
        self,
        text_or_tokens: str | Iterable[str] | Fingerprint,
        group: Hashable = None,
        threshold: float = 0.5,
        limit: int | None = 10,
        exclude: Hashable = None,
    ) -> list[tuple[Hashable, float]]:
        """Indexed keys whose estimated similarity is >= ``threshold``, best first.
        With ``group`` only keys added with that group are considered."""
        fp = self.fingerprint(text_or_tokens)
        if fp.empty:
            return []
        candidates: set = set()
        for bucket, bk in zip(self._buckets, self._band_keys(fp.to_bytes())):
            cur = bucket.get(bk)
            if cur is None:
                continue
            if type(cur) is _Keys:
                candidates.update(cur)
            else:
                candidates.add(cur)
        candidates.discard(exclude)
        mine = fp.values
        docs = self._docs
        out = []
        for k in candidates:
            doc = docs[k]
            if group is not None and doc[1] != group:
                continue
            s = sum(a == b for a, b in zip(mine, doc[0])) / NUM_BINS
            if s >= threshold:
                out.append((k, s))
        out.sort(key=lambda kv: (-kv[1], str(kv[0])))
        return out[:limit] if limit is not None else out


class _Keys(list):
    """Bucket holding several keys (a plain value is stored for a single key)."""

