"""Logging set-up: readable lines (or JSON lines), the update id or job name on each, secrets scrubbed.

Which update or job a line belongs to comes from context variables set around each update
(bot.web.metrics.InstrumentedApplication) and each job run (InstrumentedJobQueue). Handlers never
log message texts: a complainant's words and personal data stay out of the logs.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone

# The update being handled / the job running in the current task, when there is one.
current_update: contextvars.ContextVar[int | None] = contextvars.ContextVar("chengxin_update", default=None)
current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("chengxin_job", default=None)


class RedactSecrets(logging.Filter):
    """Replaces every occurrence of the given secrets in a record's final message."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "<redacted>")
            record.msg, record.args = message, None
        return True


class WorkContext(logging.Filter):
    """Adds `update_id` and `job` (None when outside an update or job) and a ready-made `context` suffix."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = current_update.get()
        record.job = current_job.get()
        if record.update_id is not None:
            record.context = f" [update {record.update_id}]"
        elif record.job is not None:
            record.context = f" [job {record.job}]"
        else:
            record.context = ""
        return True


def _scrub(line: str, secrets: list[str]) -> str:
    for secret in secrets:
        line = line.replace(secret, "<redacted>")
    return line


class TextFormatter(logging.Formatter):
    """The readable line; secrets scrubbed from the whole of it, tracebacks included."""

    def __init__(self, *secrets: str) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):
            WorkContext().filter(record)
        return _scrub(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, update_id/job when set, exc when any."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", current_update.get())
        job = getattr(record, "job", current_job.get())
        if update_id is not None:
            entry["update_id"] = update_id
        if job is not None:
            entry["job"] = job
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _scrub(json.dumps(entry, ensure_ascii=False), [json.dumps(s)[1:-1] for s in self.secrets])


def configure_logging(level: str, *secrets: str, fmt: str = "text") -> None:
    """Root logging to stderr; `fmt` "json" for JSON lines. Every given secret is scrubbed from every line."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(*secrets) if fmt == "json" else TextFormatter(*secrets))
    handler.addFilter(RedactSecrets(*secrets))
    handler.addFilter(WorkContext())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # A long delivery run makes APScheduler skip the ticks inside it, by design; it would warn each time.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
