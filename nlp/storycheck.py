"""Same-story candidates for new corpus rows (``python -m nlp.storycheck NEW.jsonl ...``).

One story, one row (docs/labelling.md): a story the corpus already has, under another site or in
another outlet's words, must not be added, or it lands in two splits.  Two measures per new row,
against every corpus row and every earlier row of the new files (folded as the loader compares texts):

- **overlap**: the share of the new row's character 5-grams found in one other row — a copy, or
  the same text trimmed differently;
- **rare names**: how many character 3-grams met in only two or three rows of everything read
  (places, companies, amounts) the new row shares with one other row — the same event reported in
  other words, which shares few 5-grams (the seventh collection round found 临颍's sewage-fee
  lawsuit beside part_a's report of the same arrears this way);
- **same page**: any other row copied from the same page address — a page usually tells one story
  (the eighth round's review found 22 repeats on 41 such pages that neither measure had flagged:
  a case and its follow-up, one event split in two rows), though a roundup can hold several.

It prints the pairs to read (both texts' beginnings), never a label or a split: a reader decides
"same story or not" (docs/corpus-round7.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from .corpus import dedup_key, load_corpus

__all__ = ["Pair", "candidates", "OVERLAP_TO_READ", "RARE_TO_READ"]

OVERLAP_TO_READ = 0.25  # share of 5-grams: above it, read both
RARE_TO_READ = 4  # rare 3-grams shared: at or above it, read both
_RARE_DF = 3  # a 3-gram met in at most this many rows is a name, place or amount


@dataclass(frozen=True)
class Pair:
    new: str  # origin of the new row ("part_j.jsonl:12")
    other: str  # origin of the row it resembles
    overlap: float
    rare: int
    shared: tuple[str, ...]  # the rare 3-grams, for the reader
    same_page: bool = False  # both rows were copied from one page address


def _grams(text: str, n: int) -> set[str]:
    folded = dedup_key(text)  # the loader's fold: simplified, lower-case, no spaces or punctuation
    return {folded[i:i + n] for i in range(len(folded) - n + 1)}


def _page(address: str) -> str:
    """A page address as rows are compared: no fragment, no trailing slash, case-folded host."""
    address = address.strip().split("#", 1)[0].rstrip("/")
    _, sep, rest = address.partition("://")
    host, slash, path = rest.partition("/")
    return (host.lower().removeprefix("www.") + slash + path) if sep else address


def candidates(corpus: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]],
               pages: Mapping[str, str] | None = None) -> list[Pair]:
    """(origin, text) rows -> the pairs to read: for each new row, the corpus or earlier new row
    with its highest 5-gram overlap and the one with the most shared rare 3-grams, when either
    reaches its threshold, and every row copied from the same page (``pages``: origin -> source
    address, where known)."""
    rows = [*corpus, *new]
    fives = [_grams(t, 5) for _, t in rows]
    threes = [_grams(t, 3) for _, t in rows]
    df = Counter(g for s in threes for g in s)
    by_five: dict[str, list[int]] = defaultdict(list)
    by_rare: dict[str, list[int]] = defaultdict(list)
    by_page: dict[str, list[int]] = defaultdict(list)
    page_of = [_page(pages[o]) if pages and pages.get(o) else None for o, _ in rows]
    pairs: list[Pair] = []
    for k, (origin, _) in enumerate(rows):
        if k >= len(corpus):  # a new row: compare with everything indexed so far
            five_hits: Counter = Counter(j for g in fives[k] for j in by_five.get(g, ()))
            rare = {g for g in threes[k] if df[g] <= _RARE_DF}
            rare_hits: Counter = Counter(j for g in rare for j in by_rare.get(g, ()))
            same_page = set(by_page.get(page_of[k], ())) if page_of[k] else set()
            seen: set[int] = set()
            for j in [j for j, _ in five_hits.most_common(1) + rare_hits.most_common(1)] + sorted(same_page):
                if j in seen:
                    continue
                seen.add(j)
                overlap = len(fives[k] & fives[j]) / max(len(fives[k]), 1)
                shared = tuple(sorted(rare & threes[j]))
                if overlap > OVERLAP_TO_READ or len(shared) >= RARE_TO_READ or j in same_page:
                    pairs.append(Pair(origin, rows[j][0], round(overlap, 2), len(shared), shared, j in same_page))
        for g in fives[k]:
            by_five[g].append(k)
        for g in threes[k]:
            if df[g] <= _RARE_DF:
                by_rare[g].append(k)
        if page_of[k]:
            by_page[page_of[k]].append(k)
    return pairs


def _read_new(paths: Sequence[str]) -> list[tuple[str, str, str]]:
    """(origin, text, source address or "") of every line of ``paths``."""
    out = []
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                obj = json.loads(line)
                out.append((f"{Path(path).name}:{n}", obj["text"], str(obj.get("source") or "")))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp.storycheck", description=__doc__.splitlines()[0])
    ap.add_argument("new", nargs="+", help="JSONL files of rows to add (not yet in the corpus directory)")
    args = ap.parse_args(argv)
    new_names = {Path(p).resolve() for p in args.new}
    corpus_rows = [r for r in load_corpus().rows if not any(r.origin.startswith(p.name + ":") for p in new_names)]
    corpus = [(r.origin, r.text) for r in corpus_rows]
    read = _read_new(args.new)
    new = [(o, t) for o, t, _ in read]
    pages = {r.origin: r.source for r in corpus_rows} | {o: src for o, _, src in read if src}
    texts = dict([*corpus, *new])
    pairs = candidates(corpus, new, pages)
    for p in pairs:
        print(f"=== {p.new}  vs  {p.other}  {'same page, ' if p.same_page else ''}5-gram overlap {p.overlap:.2f}, "
              f"{p.rare} rare 3-grams shared: {' '.join(p.shared[:12])}")
        print("NEW:  ", texts[p.new][:300])
        print("OTHER:", texts[p.other][:300])
    print(f"{len(pairs)} pairs to read ({len(new)} new rows against {len(corpus)} corpus rows)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
