"""Recognising the government department a complaint names.

``DepartmentMatcher.find`` scans the text for every department name and alias
(after a 1:1 character fold: traditional -> simplified, full-width -> half-width,
so reported ``start`` offsets index the original text).  Overlapping mentions keep
the longest (亭湖区住建局 beats 区住建局 beats 住建局).  An alias several
departments share (住建局) yields all of them, unless the same text also names a
region (亭湖区 / 亭湖...) that narrows it down.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .classifier import normalize_text

__all__ = ["DepartmentEntry", "DepartmentMention", "DepartmentMatcher", "fold"]

CSV_COLUMNS = ("code", "name", "kind", "parent", "region", "aliases")
KINDS = frozenset({"municipal", "district", "bureau", "township", "street", "enterprise"})

def fold(text: str) -> str:
    """1:1 character fold (same length): t2s, full-width -> ASCII, ASCII lower-case."""
    return normalize_text(text)


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence (住建 ~ 住房和城乡建设局 -> 2)."""
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class DepartmentEntry:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    kind: str = ""
    parent: str = ""
    region: str = ""


@dataclass(frozen=True)
class DepartmentMention:
    code: str
    name: str
    matched: str  # the text as the citizen wrote it
    start: int  # offset in the original text


class DepartmentMatcher:
    def __init__(self, entries: Iterable[DepartmentEntry]) -> None:
        self.entries: list[DepartmentEntry] = []
        self._by_code: dict[str, DepartmentEntry] = {}
        for e in entries:
            if e.code in self._by_code:
                raise ValueError(f"duplicate department code {e.code!r}")
            self._by_code[e.code] = e
            self.entries.append(e)
        self._order = {e.code: i for i, e in enumerate(self.entries)}

        # surface form -> codes (in directory order)
        surface: dict[str, list[str]] = {}
        for e in self.entries:
            for s in (e.name, *e.aliases):
                f = fold(s).strip()
                if len(f) >= 2 and e.code not in surface.setdefault(f, []):
                    surface[f].append(e.code)
        self._surface = {s: tuple(c) for s, c in surface.items()}
        by_first: dict[str, list[str]] = {}
        for s in sorted(self._surface, key=lambda x: (-len(x), x)):
            by_first.setdefault(s[0], []).append(s)
        self._by_first = by_first
        # surface form -> region, for forms that name one region's government
        self._region_of: dict[str, str] = {}
        for e in self.entries:
            if e.kind == "district" and e.region and e.region != "city":
                for s in (e.name, *e.aliases):
                    self._region_of[fold(s).strip()] = e.region
        self._search_keys = [
            (e, fold(e.name), tuple(fold(a) for a in e.aliases)) for e in self.entries
        ]

    # ------------------------------------------------------------------ loading
    @staticmethod
    def load_csv(path: str | Path) -> list[DepartmentEntry]:
        path = Path(path)
        entries: list[DepartmentEntry] = []
        seen: set[str] = set()
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
            for lineno, row in enumerate(reader, start=2):
                code = (row["code"] or "").strip()
                name = (row["name"] or "").strip()
                kind = (row["kind"] or "").strip()
                if not code or not name:
                    raise ValueError(f"{path.name}:{lineno}: code and name are required")
                if code in seen:
                    raise ValueError(f"{path.name}:{lineno}: duplicate code {code!r}")
                if kind and kind not in KINDS:
                    raise ValueError(f"{path.name}:{lineno}: unknown kind {kind!r}")
                seen.add(code)
                aliases: list[str] = []
                for a in (row["aliases"] or "").split("|"):
                    a = a.strip()
                    if a and a != name and a not in aliases:
                        aliases.append(a)
                entries.append(
                    DepartmentEntry(
                        code=code,
                        name=name,
                        aliases=tuple(aliases),
                        kind=kind,
                        parent=(row["parent"] or "").strip(),
                        region=(row["region"] or "").strip(),
                    )
                )
        return entries

    @classmethod
    def from_csv(cls, path: str | Path) -> "DepartmentMatcher":
        return cls(cls.load_csv(path))

    def get(self, code: str) -> DepartmentEntry | None:
        return self._by_code.get(code)

    def words(self) -> list[str]:
        """All names and aliases, e.g. for ``Classifier.add_words``."""
        out: list[str] = []
        for e in self.entries:
            out.append(e.name)
            out.extend(e.aliases)
        return out

    # ------------------------------------------------------------------ find
    def find(self, text: str) -> list[DepartmentMention]:
        if not text:
            return []
        folded = fold(text)
        by_first, surface = self._by_first, self._surface
        found: list[tuple[int, int, str]] = []
        for i, ch in enumerate(folded):
            for s in by_first.get(ch, ()):
                if folded.startswith(s, i):
                    found.append((i, i + len(s), s))
        if not found:
            return []
        found.sort(key=lambda m: (m[0] - m[1], m[0]))  # longest, then earliest
        accepted: list[tuple[int, int, str]] = []
        for a, b, s in found:
            if any(a >= x and b <= y for x, y, _ in accepted):
                continue
            accepted.append((a, b, s))

        # regions named unambiguously in the text narrow ambiguous aliases
        hints: set[str] = set()
        for _, _, s in accepted:
            regions = {self._by_code[c].region for c in surface[s]}
            if len(regions) == 1:
                hints |= regions
        qualifiers: set[str] = set()
        ranked: list[tuple[int, int, str, tuple[str, ...]]] = []
        for a, b, s in accepted:
            codes = surface[s]
            if len(codes) > 1 and hints:
                narrowed = tuple(c for c in codes if self._by_code[c].region in hints)
                if narrowed:
                    if len(narrowed) < len(codes):
                        qualifiers |= {self._by_code[c].region for c in narrowed}
                    codes = narrowed
            ranked.append((a, b, s, codes))

        mentions: list[DepartmentMention] = []
        demoted: list[DepartmentMention] = []
        done: set[str] = set()
        for a, b, s, codes in ranked:
            for code in codes:
                if code in done:
                    continue
                done.add(code)
                e = self._by_code[code]
                m = DepartmentMention(code=code, name=e.name, matched=text[a:b], start=a)
                # a bare region name only used to qualify a bureau goes last
                if self._region_of.get(s) in qualifiers and e.kind == "district":
                    demoted.append(m)
                else:
                    mentions.append(m)
        return mentions + demoted

    # ------------------------------------------------------------------ search
    def search(self, query: str, limit: int = 8) -> list[DepartmentEntry]:
        """Rank departments for a typed query: exact name, exact alias, substring
        either way, then character overlap (住建 ~ 住房和城乡建设局)."""
        q = fold(query or "").strip()
        if not q or limit <= 0:
            return []
        scored: list[tuple[int, float, int, DepartmentEntry]] = []
        for e, name, aliases in self._search_keys:
            forms = (name, *aliases)
            if q == name:
                tier, score = 0, 1.0
            elif q in aliases:
                tier, score = 1, 1.0
            elif any(q in f for f in forms):
                tier = 2
                score = max(len(q) / len(f) for f in forms if q in f)
            elif any(len(f) >= 2 and f in q for f in forms):
                tier = 2
                score = max(len(f) / len(q) for f in forms if len(f) >= 2 and f in q) * 0.9
            else:
                best = 0.0
                for f in forms:
                    common = _lcs(q, f)
                    if common >= 2:
                        best = max(best, common / len(q) - 0.01 * (len(f) - common) / len(f))
                if best < 0.75:
                    continue
                tier, score = 3, best
            scored.append((tier, -score, self._order[e.code], e))
        scored.sort(key=lambda t: (t[0], t[1], t[2]))
        return [e for *_, e in scored[:limit]]
