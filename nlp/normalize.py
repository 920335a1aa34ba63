"""The classifier's text fold: traditional -> simplified, full-width -> ASCII, lower-case,
one character for one (offsets in the folded text are offsets in the original).

Shared by the classifier, the department matcher, the lexicon, the corpus loader and the
case search (``nlp.classifier`` re-exports ``normalize_text``).  See docs/classifier.md,
"How it works", step 1, for the fast paths and their costs.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

__all__ = ["normalize_text"]

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
