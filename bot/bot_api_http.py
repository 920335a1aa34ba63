"""The Bot API over aiohttp: python-telegram-bot's transport seam (`BaseRequest`) filled with aiohttp's client.

Why not PTB's default `HTTPXRequest`: every Bot API call through httpx, httpcore, anyio and h11 costs about
1 ms of CPU on the 2-core machine class the benchmarks use, against about 0.2 ms through aiohttp's client
(already a dependency: it serves the webhook and the pages). A step makes one call or two, so the transport
was the largest part of Chengxin's CPU per update (docs/benchmarks.md, latency).

What it keeps of `HTTPXRequest` (PTB maps the HTTP status of an answer to its errors itself, in
`BaseRequest._request_wrapper`; `do_request` only returns the status and the body):
- the four timeouts, with PTB's defaults (read 5 s, write 5 s, connect 5 s, pool 1 s, uploads 20 s to
  write); a value passed to a call wins, `DEFAULT_NONE` takes the default. aiohttp has no write timeout:
  a request with a body gets a total instead, connect + write + read, and an upload also a second per
  50 kB, so a stalled upload ends while a large one on a slow line does not;
- a connection pool of `connection_pool_size`; a call that waits longer than the pool timeout for a free
  connection fails with PTB's "Pool timeout" `TimedOut`, not sent;
- multipart uploads (sendDocument of the monthly workbook, evidence, charts) with UTF-8 file names;
- the proxy from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY), as httpx reads it: looked
  up once per server, not per call (aiohttp's own `trust_env` looks it up in a thread on every request);
- the certificate authorities httpx trusts (certifi's, or SSL_CERT_FILE / SSL_CERT_DIR); no redirects;
- timeouts as `TimedOut`, every other failure to talk to the server as `NetworkError`;
- the token, which is part of every Bot API URL, in no exception text.

Calls without files go out as one JSON body (Telegram takes JSON for every method but uploads), which is
cheaper to build than the form encoding httpx uses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import ssl
from typing import Any
from urllib.request import getproxies, proxy_bypass

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to "
    "Telegram. Consider adjusting the connection pool size or the pool timeout."
)
# An upload may take a second longer per this many bytes before its total timeout ends it.
UPLOAD_BYTES_PER_SECOND = 50_000
_TOKEN_IN_URL = re.compile(r"/(?:file/)?bot([^/]+)")
_JSON_HEADERS = {"Content-Type": "application/json"}


def pool_size_for(concurrent_updates: int) -> int:
    """Connections for the bot's calls: an update makes at most two at once (editing the pressed message
    while answering the press), and the delivery job and the other jobs send beside the updates."""
    return 2 * concurrent_updates + 8


class BotApiHttp(BaseRequest):
    """`BaseRequest` on an aiohttp `ClientSession`, opened in `initialize` and closed in `shutdown`."""

    def __init__(self, *, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self.connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        self._proxies: dict[str, str | None] = {}
        self._timeouts: dict[tuple, aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds a long poll's own timeout to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The pool limit is enforced here (the semaphore, for the pool timeout), so the connector
            # never makes a request wait; its own limit is the same number.
            self._pool = asyncio.Semaphore(self.connection_pool_size)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connection_pool_size, limit_per_host=0,
                                               ssl=_certificate_authorities()),
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=False,   # the environment's proxy is looked up once per server (_proxy_for)
                skip_auto_headers=("Accept-Encoding",),   # Bot API answers are small JSON
            )

    async def shutdown(self) -> None:
        if self._session is None or self._session.closed:
            log.debug("the Bot API transport is already shut down")
            return
        await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE,
                         write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        session, pool = self._session, self._pool
        if session is None or session.closed or pool is None:
            raise RuntimeError("This BotApiHttp is not initialized!")
        files = request_data is not None and request_data.contains_files
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout

        body: Any = None
        headers = None
        size = 0
        if request_data is not None:
            if files:
                body, size = _multipart(request_data)
            else:
                body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
                headers = _JSON_HEADERS
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout,
                                body is not None, size // UPLOAD_BYTES_PER_SECOND)
        try:
            await _acquire(pool, pool_timeout)
        except TimeoutError:
            raise TimedOut(POOL_TIMEOUT_MESSAGE) from None
        try:
            # No redirects followed, as httpx does not: the token is in the URL and must not travel on.
            async with session.request(method, url, data=body, headers=headers, timeout=timeout,
                                       proxy=self._proxy_for(url), allow_redirects=False) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as error:  # aiohttp's connect and read timeouts are TimeoutErrors too
            raise TimedOut(_redacted(error, url) or "Timed out") from _cause(error, url)
        except (aiohttp.ClientError, OSError, ValueError) as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {_redacted(error, url)}") from _cause(error, url)
        finally:
            pool.release()

    def _timeout(self, read: float | None, write: float | None, connect: float | None, has_body: bool,
                 upload_seconds: int) -> aiohttp.ClientTimeout:
        """aiohttp's `connect` covers name lookup, TCP and TLS; `sock_read` runs from the end of the
        request's body and restarts with every chunk received, as httpx's read timeout does. A body's
        write has no timeout of its own in aiohttp: the total bounds it (see the module docstring)."""
        key = (read, write, connect, has_body, upload_seconds)
        found = self._timeouts.get(key)
        if found is None:
            phases = (connect, write, read)
            total = (sum(phases) + upload_seconds if has_body and None not in phases else None)
            found = aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)
            if len(self._timeouts) < 64:
                self._timeouts[key] = found
        return found

    def _proxy_for(self, url: str) -> str | None:
        """The environment's proxy for this server, as httpx would take it; looked up once per server."""
        origin = url[: url.find("/", url.find("//") + 2)]
        if origin not in self._proxies:
            self._proxies[origin] = _environment_proxy(origin)
        return self._proxies[origin]


async def _acquire(pool: asyncio.Semaphore, timeout: float | None) -> None:
    if not pool.locked() or timeout is None:
        await pool.acquire()
        return
    await asyncio.wait_for(pool.acquire(), timeout)


def _multipart(request_data: RequestData) -> tuple[aiohttp.FormData, int]:
    """The parameters and the files as multipart/form-data; file names as UTF-8, as httpx sends them."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    size = 0
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        if isinstance(content, (bytes, bytearray)):
            size += len(content)
        safe_name = filename.replace("\r", " ").replace("\n", " ") if filename else None
        form.add_field(name, content, filename=safe_name, content_type=mime_type)
    return form, size


def _environment_proxy(origin: str) -> str | None:
    scheme, _, host = origin.partition("://")
    proxies = getproxies()
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not proxies or proxy_bypass(hostname):
        return None
    proxy = proxies.get(scheme) or proxies.get("all")
    if proxy and not proxy.startswith(("http://", "https://")):
        log.warning("the proxy for %s (%s) is not an HTTP proxy; connecting directly", origin,
                    proxy.split("://", 1)[0])
        return None
    return proxy


def _certificate_authorities() -> ssl.SSLContext:
    """Whom to trust for Telegram's certificate, as httpx decides: SSL_CERT_FILE or SSL_CERT_DIR when set,
    else certifi's bundle (not the system's, which a minimal server image may lack)."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


def _token_of(url: str) -> str | None:
    match = _TOKEN_IN_URL.search(url)
    return match.group(1) if match else None


def _redacted(error: BaseException, url: str) -> str:
    """The error's text without the token (aiohttp names the URL in some of its errors)."""
    text = str(error)
    token = _token_of(url)
    if token:
        for form in {token, token.replace(":", "%3A")}:
            text = text.replace(form, "<token>")
    return text


def _cause(error: BaseException, url: str) -> BaseException | None:
    """Chain the original error only when it cannot show the token (a traceback prints it)."""
    token = _token_of(url)
    if token and (token in str(error) or token in repr(error) or token.replace(":", "%3A") in repr(error)):
        return None
    return error


async def close_transports(bot: Any) -> None:
    """Close both of a bot's transports. PTB opens them in `Bot.initialize` and then calls getMe; when
    that fails (a rejected token, no server) the bot counts as never initialised and its shutdown closes
    nothing, which aiohttp reports at exit ("Unclosed client session")."""
    # PTB 22 has no public accessor for the getUpdates transport; `_request` is (getUpdates, the rest).
    for request in {id(r): r for r in (*getattr(bot, "_request", ()), bot.request)}.values():
        await request.shutdown()
