"""The real-complaint corpus (``nlp/data/corpus/*.jsonl``): loading, validation, splits.

Each line is one JSON object::

    {"text": "...", "domain": "debt", "domain2": null, "source": "https://...",
     "source_kind": "news", "script": "simplified"}

:func:`load_corpus` keeps a line only if it is well-formed JSON with every field, a
known domain (and ``domain2`` null or another known domain), a source URL with a
host, a text of 30-600 characters, and a text not already seen (compared after
normalisation: simplified, lower-case, no spaces or punctuation, so the same
complaint quoted by two sites counts once).  Everything dropped is reported with
its file, line and reason, so a collector can fix it instead of it vanishing.  A line
with ``"same_story_as": "part_a.jsonl:12"`` (a reader found it tells that row's story
again) or ``"not_a_complaint": "<why>"`` (a reader found it accuses no one of anything concrete:
commentary, a notice) is set aside, not loaded: it stays in its file so line references hold.

Splits are by *site* (:func:`site_of`: the registrable part of the URL's host), so no
source ever appears in two of train / dev / holdout: a model must not be scored on
a site whose phrasing it learned.  :func:`assign_splits` gives every new site a split
deterministically and keeps the splits already recorded in ``splits.json``, so adding
texts never moves an old source between splits.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping
from urllib.parse import urlsplit

from .lexicon import DATA_DIR, DOMAINS

__all__ = [
    "CORPUS_DIR", "SPLITS_PATH", "SPLITS", "CorpusRow", "Dropped", "LoadedCorpus",
    "load_corpus", "site_of", "assign_splits", "read_splits", "write_splits", "rows_in",
]

CORPUS_DIR = DATA_DIR / "corpus"
SPLITS_PATH = CORPUS_DIR / "splits.json"
SPLITS = ("train", "dev", "holdout")
# Shares of the corpus each split aims at (by domain and by script).
SPLIT_SHARES = {"train": 0.6, "dev": 0.2, "holdout": 0.2}
MIN_CHARS, MAX_CHARS = 30, 600
SCRIPTS = ("simplified", "traditional")
FIELDS = ("text", "domain", "domain2", "source", "source_kind", "script")

# Some mirror sites print pinyin after each character, 問(wèn)政 — not what a citizen writes.
_PINYIN_GLOSS = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê]{1,7}[1-5]?[)）]")
_NOT_CONTENT = re.compile(r"[\W_]+")
# Second-level labels under which a country TLD registers names (people.com.cn, gov.hk, ...).
_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac", "co", "or", "ne", "idv", "mil"}


@dataclass(frozen=True)
class CorpusRow:
    text: str
    domain: str
    domain2: str | None
    source: str
    source_kind: str
    script: str
    site: str  # site_of(source): the unit of splitting
    origin: str  # "part_a.jsonl:12", for messages


@dataclass(frozen=True)
class Dropped:
    origin: str
    reason: str


@dataclass
class LoadedCorpus:
    rows: list[CorpusRow] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    # rows a reader found to tell a story another row already tells ("same_story_as"), or not to be a
    # complaint at all ("not_a_complaint": commentary, a notice, rule 10 of the guide): kept in their
    # file, so every "part_x.jsonl:N" named in the docs still points at the same row, but not loaded
    set_aside: list[Dropped] = field(default_factory=list)
    cleaned: int = 0  # texts whose pinyin glosses were removed

    def summary(self) -> str:
        """One line per reason, e.g. for the CLI."""
        kept = f"{len(self.rows)} texts kept"
        if self.cleaned:
            kept += f", {self.cleaned} with pinyin glosses removed"
        repeats = sum(d.reason.startswith("same story") for d in self.set_aside)
        if repeats:
            kept += f", {repeats} set aside as the same story as another row"
        if len(self.set_aside) > repeats:
            kept += f", {len(self.set_aside) - repeats} set aside as not a complaint"
        if not self.dropped:
            return kept + ", none dropped"
        reasons = Counter(d.reason.split(":")[0] for d in self.dropped)
        return kept + f", {len(self.dropped)} dropped (" + ", ".join(
            f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))) + ")"


def site_of(url: str) -> str | None:
    """The registrable part of a URL's host: news.163.com -> 163.com,
    epaper.qingdaonews.com -> qingdaonews.com, www.gov.cn.example.com.cn -> example.com.cn."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    labels = host.lower().rstrip(".").split(".")
    if all(p.isdigit() for p in labels):  # a bare IP address is its own site
        return host
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def dedup_key(text: str) -> str:
    from .classifier import normalize_text

    return _NOT_CONTENT.sub("", normalize_text(text))


def _check(obj: object) -> str | None:
    """Why a parsed line is unusable, or None."""
    if not isinstance(obj, dict):
        return "malformed: not an object"
    missing = [f for f in FIELDS if f not in obj]
    if missing:
        return f"malformed: missing {', '.join(missing)}"
    if not isinstance(obj["text"], str):
        return "malformed: text is not a string"
    if obj["domain"] not in DOMAINS:
        return f"unknown domain: {obj['domain']!r}"
    if obj["domain2"] is not None and (obj["domain2"] not in DOMAINS or obj["domain2"] == obj["domain"]):
        return f"bad domain2: {obj['domain2']!r}"
    if not isinstance(obj["source"], str) or site_of(obj["source"]) is None:
        return f"no source host: {obj['source']!r}"
    if obj["script"] not in SCRIPTS:
        return f"unknown script: {obj['script']!r}"
    if not isinstance(obj["source_kind"], str) or not obj["source_kind"].strip():
        return "malformed: empty source_kind"
    return None


def load_corpus(paths: Iterable[str | Path] | None = None) -> LoadedCorpus:
    """Read and validate corpus files (default: every ``*.jsonl`` in ``CORPUS_DIR``,
    in name order); see the module docstring for what is dropped."""
    files = sorted(CORPUS_DIR.glob("*.jsonl")) if paths is None else [Path(p) for p in paths]
    out = LoadedCorpus()
    seen: dict[str, str] = {}  # dedup key -> origin of the kept copy
    repeats: list[tuple[str, str]] = []  # (origin, the origin whose story it tells again)
    for path in files:
        with path.open(encoding="utf-8-sig") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                origin = f"{path.name}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    out.dropped.append(Dropped(origin, f"malformed: not JSON ({exc.msg})"))
                    continue
                problem = _check(obj)
                if problem is not None:
                    out.dropped.append(Dropped(origin, problem))
                    continue
                if obj.get("same_story_as"):
                    repeats.append((origin, str(obj["same_story_as"])))
                    continue
                if obj.get("not_a_complaint"):
                    out.set_aside.append(Dropped(origin, f"not a complaint: {obj['not_a_complaint']}"))
                    continue
                text = " ".join(obj["text"].split())
                glossless = _PINYIN_GLOSS.sub("", text)
                if glossless != text:
                    out.cleaned += 1
                    text = glossless
                if not MIN_CHARS <= len(text) <= MAX_CHARS:
                    out.dropped.append(Dropped(origin, f"length: {len(text)} characters, not {MIN_CHARS}-{MAX_CHARS}"))
                    continue
                key = dedup_key(text)
                if key in seen:
                    out.dropped.append(Dropped(origin, f"duplicate: of {seen[key]}"))
                    continue
                seen[key] = origin
                out.rows.append(CorpusRow(
                    text=text, domain=obj["domain"], domain2=obj["domain2"], source=obj["source"].strip(),
                    source_kind=obj["source_kind"].strip(), script=obj["script"],
                    site=site_of(obj["source"]), origin=origin,
                ))
    kept = {r.origin for r in out.rows}
    for origin, told_by in repeats:  # the story must still be told by the row it points at
        if told_by in kept:
            out.set_aside.append(Dropped(origin, f"same story as {told_by}"))
        else:
            out.dropped.append(Dropped(origin, f"same story as {told_by}, which is not a kept row"))
    return out


# --------------------------------------------------------------------------- splits
def _site_hash(site: str) -> str:
    return hashlib.sha256(site.encode("utf-8")).hexdigest()


def assign_splits(rows: Iterable[CorpusRow], existing: Mapping[str, str] | None = None) -> dict[str, str]:
    """site -> split for every site in ``rows``.

    Sites already in ``existing`` keep their split.  New sites are taken in order of
    their SHA-256 hash (deterministic, unrelated to content) and each goes to the
    split furthest below its share for the domains and scripts the site brings, so
    every domain and both scripts reach all three splits in about 60/20/20 proportion
    even though whole sites move together."""
    rows = list(rows)
    existing = dict(existing or {})
    per_site: dict[str, Counter] = {}
    totals: Counter = Counter()
    for r in rows:
        strata = (("domain", r.domain), ("script", r.script))
        per_site.setdefault(r.site, Counter()).update(strata)
        totals.update(strata)
    have = {s: Counter() for s in SPLITS}
    result: dict[str, str] = {}
    for site, counts in per_site.items():
        if existing.get(site) in SPLITS:
            result[site] = existing[site]
            have[result[site]].update(counts)
    for site in sorted((s for s in per_site if s not in result), key=lambda s: (_site_hash(s), s)):
        counts = per_site[site]

        def need(split: str) -> float:
            share = SPLIT_SHARES[split]
            # relative shortfall, summed over this site's strata, weighted by its texts
            return sum(n * (share - have[split][k] / totals[k]) for k, n in counts.items())

        best = max(SPLITS, key=lambda s: (need(s), SPLIT_SHARES[s]))
        result[site] = best
        have[best].update(counts)
    return dict(sorted(result.items()))


def read_splits(path: str | Path = SPLITS_PATH) -> dict[str, str]:
    path = Path(path)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {site: split for site, split in data.get("sites", {}).items() if split in SPLITS}


def write_splits(assignment: Mapping[str, str], path: str | Path = SPLITS_PATH) -> None:
    """Sorted, one site per line: diffs show exactly which sites were added."""
    body = {
        "about": "site (registrable host of each text's source) -> split; written by `chengxin lexicon split`. "
                 "Sites never move; new sites are assigned by nlp.corpus.assign_splits. Never tune on holdout.",
        "sites": dict(sorted(assignment.items())),
    }
    Path(path).write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def rows_in(rows: Iterable[CorpusRow], assignment: Mapping[str, str], split: str) -> list[CorpusRow]:
    """Rows whose site is in ``split``; rows of a site not yet assigned belong to none."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    return [r for r in rows if assignment.get(r.site) == split]
