"""Classifier._segment (fused DAG pass) must equal jieba's lcut(HMM=False) token for token."""

from __future__ import annotations

import json
import random
from pathlib import Path

from nlp import Classifier, normalize_text

DATA = Path(__file__).resolve().parent / "data"


def test_segment_equals_jieba_lcut() -> None:
    c = Classifier.default()
    c.add_words(["亭湖区住建局", "龙冈镇政府"])
    c.tokenize("预热")
    with (DATA / "complaints_dev.jsonl").open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    texts += [
        "abc def 123 x1y2，中文English混合 test\r\n下一行\t制表 😀 ￥3,800 a.b_c%d-e 2023-03-15 C++ R&D",
        "", " ", "a", "1", "亭湖区住建局和龙冈镇政府",
    ]
    rng = random.Random(7)
    alphabet = "".join(sorted(set("".join(texts))))
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(500)]
    for t in texts:
        n = normalize_text(t)
        assert c._segment(n) == c._tokenizer.lcut(n, HMM=False), t
