"""Security of the web pages: response headers and per-address rate limits.

Headers on every page and feed response: a Content-Security-Policy that allows only this site's own
styles and images (the pages use no JavaScript), frame-ancestors 'none' and X-Frame-Options DENY,
Referrer-Policy no-referrer (a login link never leaks in a Referer), X-Content-Type-Options nosniff.
"""

from __future__ import annotations

import time
from collections import deque
from ipaddress import ip_address

from aiohttp import web

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def add_security_headers(response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


def client_address(request: web.Request) -> str:
    """The caller's address; behind a proxy on this host (nginx), the X-Real-IP it sets."""
    remote = request.remote or ""
    try:
        local = ip_address(remote).is_loopback
    except ValueError:
        local = False
    if local and request.headers.get("X-Real-IP"):
        return request.headers["X-Real-IP"].strip()[:64]
    return remote


class RateLimit:
    """At most `limit` requests per `window` seconds per address (a sliding window kept in memory;
    throttling, not state: each instance counts its own)."""

    def __init__(self, limit: int, window: float, max_addresses: int = 50_000) -> None:
        self.limit, self.window, self.max_addresses = limit, window, max_addresses
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_addresses:
                self._hits.clear()
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True
