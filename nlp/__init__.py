"""Chengxin NLP: complaint-domain classification, department recognition, PII masking.

A leaf package: stdlib + jieba + opencc (opencc-python-reimplemented) only.  Submodules: evaluation
(metrics report), suggest (lexicon term suggestions), extract (amounts, dates, case
numbers), similarity (near-duplicate MinHash index), bench_similarity (benchmark).
"""

from .classifier import Classification, Classifier, normalize_text
from .departments import DepartmentEntry, DepartmentMatcher, DepartmentMention
from .lexicon import DOMAINS, Lexicon
from .pii import mask_pii

__all__ = [
    "DOMAINS",
    "Classification",
    "Classifier",
    "DepartmentEntry",
    "DepartmentMatcher",
    "DepartmentMention",
    "Lexicon",
    "mask_pii",
    "normalize_text",
]
