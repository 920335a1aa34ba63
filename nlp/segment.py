"""jieba 0.42's segmentation (DAG + max-probability route, ``HMM=False``) as one fused pass.

``segment(tokenizer, text, log_cache)`` returns exactly ``tokenizer.lcut(text, HMM=False)``
(same floating-point arithmetic and tie-breaking), but builds each block's route in one
pass with ``log(freq)`` memoised per word in ``log_cache`` instead of jieba's get_DAG,
calc's generator and a ``math.log`` per candidate: about a third cheaper, which pays for
the classification work (docs/classifier.md, "How it works", step 2).  A test checks
token-for-token equality with jieba on the labelled sets (tests/test_nlp_segment.py).
"""

from __future__ import annotations

from math import log as _log

import jieba
from jieba import re_eng as _RE_ENG
from jieba import re_han_default as _RE_HAN
from jieba import re_skip_default as _RE_SKIP

__all__ = ["segment"]


def segment(tok: jieba.Tokenizer, text: str, lcache: dict[str, float]) -> list[str]:
    """``tok.lcut(text, HMM=False)``; ``lcache`` (word -> log(frequency)) is filled as it goes
    and must be emptied when words are added to ``tok``."""
    freq = tok.FREQ
    logtotal = _log(tok.total)
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
