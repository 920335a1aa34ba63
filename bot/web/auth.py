"""The dashboard's session cookie and CSRF tokens.

The cookie holds the session id and an HMAC of it under the cookie secret (a forged or altered cookie
is ignored before the database is asked); it is HttpOnly, SameSite=Strict, and Secure when the site is
served over HTTPS (the public base URL, or the proxy's X-Forwarded-Proto). Every form carries a CSRF
token derived from the session id, checked on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web

COOKIE = "chengxin_session"


class Signer:
    def __init__(self, secret: str) -> None:
        self.key = (secret or secrets.token_urlsafe(32)).encode()

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self.key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def cookie_value(self, session_id: str) -> str:
        return f"{session_id}.{self._mac('session', session_id)}"

    def session_id(self, cookie: str | None) -> str | None:
        if not cookie or "." not in cookie or len(cookie) > 256:
            return None
        session_id, _, mac = cookie.rpartition(".")
        return session_id if hmac.compare_digest(mac, self._mac("session", session_id)) else None

    def csrf_token(self, session_id: str) -> str:
        return self._mac("csrf", session_id)

    def csrf_ok(self, session_id: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given, self.csrf_token(session_id))


def is_https(request: web.Request, base_url: str | None) -> bool:
    if request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https":
        return True
    return bool(base_url and base_url.startswith("https://"))


def set_session_cookie(response: web.StreamResponse, request: web.Request, signer: Signer, session_id: str,
                       *, base_url: str | None, max_age: int) -> None:
    response.set_cookie(COOKIE, signer.cookie_value(session_id), max_age=max_age, path="/", httponly=True,
                        secure=is_https(request, base_url), samesite="Strict")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
