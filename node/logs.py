"""ECS-style JSON logs, one object per line, with Elasticsearch's field names (clients-and-tools §5).

Mirroring ES's names lets Filebeat/Kibana mappings and log-based readiness checks (testcontainers matches
`"message":"started"`) work unchanged.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import logging.handlers
import queue
from collections.abc import Callable
from pathlib import Path

__all__ = ["JsonFormatter", "setup_logging"]


class JsonFormatter(logging.Formatter):
    def __init__(self, fields: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._fields = fields

    def format(self, record: logging.LogRecord) -> str:
        instant = _dt.datetime.fromtimestamp(record.created, tz=_dt.UTC)
        doc: dict[str, object] = {
            "@timestamp": instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z",
            "log.level": record.levelname if record.levelname != "WARNING" else "WARN",
            "message": record.getMessage(),
            "ecs.version": "1.2.0",
            "service.name": "ES_ECS",
            "event.dataset": "elasticsearch.server",
            "process.thread.name": record.threadName,
            "log.logger": record.name,
        }
        doc.update(self._fields())
        if record.exc_info:
            exc_type = record.exc_info[0]
            doc["error.type"] = exc_type.__name__ if exc_type else ""
            doc["error.message"] = str(record.exc_info[1])
            doc["error.stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(doc, separators=(",", ":"))


class _RecordQueueHandler(logging.handlers.QueueHandler):
    """Queues records as they are; the stock handler would pre-format them and drop `exc_info`."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg = record.getMessage()
        record.args = None
        return record


def _streams_ended_by_stopping(record: logging.LogRecord) -> bool:
    """gRPC logs every peer's stream that a stopping node ends as an ERROR (`Aborting method [...] due to server
    stop.`); ending them is what stopping means, as ES closes its transport connections, so only DEBUG shows it."""
    if record.getMessage().endswith("due to server stop."):
        return logging.getLogger().isEnabledFor(logging.DEBUG)
    return True


def setup_logging(
    path: Path, fields: Callable[[], dict[str, str]], level: int = logging.INFO
) -> logging.handlers.QueueListener:
    """Sends every log record of the process to `path` as JSON lines; nothing goes to stdout.

    Records are formatted and written by a listener thread, so logging never blocks the event loop on disk.
    The caller stops the returned listener at shutdown to flush.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(JsonFormatter(fields))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root = logging.getLogger()
    root.handlers[:] = [_RecordQueueHandler(records)]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("grpc._cython.cygrpc").addFilter(_streams_ended_by_stopping)
    listener = logging.handlers.QueueListener(records, file_handler)
    listener.start()
    return listener
