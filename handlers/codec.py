"""Callback data codecs: each feature module declares its buttons' data as a prefix and typed parts.

`Codec("acc", Ref())` builds `acc:YC-20261127-0042` and parses it back; anything forged, truncated
or out of range raises BadData, which the door answers with the stale-button alert (no ERROR log).
Telegram limits callback data to 64 bytes; `build` refuses longer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.refs import normalize_ref

MAX_DATA = 64


class BadData(ValueError):
    """Callback data that no button of ours produced."""


@dataclass(frozen=True)
class Int:
    """An ASCII-digit integer within [low, high]."""

    low: int = 0
    high: int = 2**31 - 1

    def parse(self, raw: str) -> int:
        if not raw or len(raw) > 12 or not raw.isascii() or not raw.isdigit():
            raise BadData(raw)
        value = int(raw)
        if not self.low <= value <= self.high:
            raise BadData(raw)
        return value


@dataclass(frozen=True)
class Ref:
    """A case reference (YC-20261127-0042)."""

    def parse(self, raw: str) -> str:
        ref = normalize_ref(raw) if raw and len(raw) <= 40 else None
        if ref is None:
            raise BadData(raw)
        return ref


@dataclass(frozen=True)
class Word:
    """One of a fixed set of words, or (with `pattern`) a short token matching it."""

    choices: tuple[str, ...] = ()
    pattern: str | None = None

    def parse(self, raw: str) -> str:
        if self.choices and raw in self.choices:
            return raw
        if self.pattern and len(raw) <= 40 and re.fullmatch(self.pattern, raw):
            return raw
        raise BadData(raw)


class Codec:
    """A prefix and its parts; `pattern` is what the CallbackQueryHandler matches (the prefix only, so a
    malformed rest still reaches the door and is refused politely instead of falling through)."""

    def __init__(self, prefix: str, *parts) -> None:
        self.prefix, self.parts = prefix, parts
        self.pattern = rf"^{re.escape(prefix)}(:|$)"

    def build(self, *values) -> str:
        data = ":".join([self.prefix, *map(str, values)])
        if len(values) != len(self.parts) or len(data.encode()) > MAX_DATA:
            raise ValueError(f"bad callback data {data!r}")
        return data

    def parse(self, data: str) -> tuple:
        pieces = data.split(":")
        if pieces[0] != self.prefix or len(pieces) != len(self.parts) + 1:
            raise BadData(data)
        return tuple(part.parse(raw) for part, raw in zip(self.parts, pieces[1:]))


class OneOf:
    """Several button shapes handled by one handler: `parse` gives (prefix, *values)."""

    def __init__(self, *codecs: Codec) -> None:
        self.codecs = {codec.prefix: codec for codec in codecs}
        self.pattern = "^(" + "|".join(re.escape(p) for p in self.codecs) + ")(:|$)"

    def parse(self, data: str) -> tuple:
        codec = self.codecs.get(data.split(":", 1)[0])
        if codec is None:
            raise BadData(data)
        return (codec.prefix, *codec.parse(data))
