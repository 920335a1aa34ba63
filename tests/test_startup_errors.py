"""`chengxin run` with a token Telegram will not take, or a Bot API server it cannot reach: one line, no
traceback, a non-zero exit, and the token nowhere in what it prints."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.test_cli import chengxin

LOOKS_REAL = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawZ"


class Rejecting(BaseHTTPRequestHandler):
    """A Bot API server that answers every call as Telegram answers a revoked token."""

    def do_POST(self):  # noqa: N802 - the http.server name
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def rejecting_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Rejecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_clean_line(result, token: str) -> None:
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "Traceback" not in output
    assert token.split(":")[1] not in output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("token", ["123456789:your-token-from-BotFather", "123456789:AAH…", "abc:" + "x" * 40])
def test_placeholder_tokens_from_documentation_are_refused_before_any_request(tmp_path, token):
    result = chengxin("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": token})
    assert result.returncode == 2
    assert "BotFather" in result.stderr and "令牌" in result.stderr


def test_a_token_telegram_rejects_ends_in_one_line(tmp_path, rejecting_server):
    env = {"TELEGRAM_BOT_TOKEN": LOOKS_REAL, "TELEGRAM_API_URL": rejecting_server,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = chengxin("run", cwd=tmp_path, env=env)
    assert_one_clean_line(result, LOOKS_REAL)
    assert "拒绝" in result.stderr and "rejected" in result.stderr


def test_an_unreachable_api_server_ends_in_one_line(tmp_path):
    env = {"TELEGRAM_BOT_TOKEN": LOOKS_REAL, "TELEGRAM_API_URL": f"http://127.0.0.1:{closed_port()}",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = chengxin("run", cwd=tmp_path, env=env)
    assert_one_clean_line(result, LOOKS_REAL)
    assert "无法连接" in result.stderr and "cannot reach" in result.stderr
