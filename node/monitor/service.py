"""`MonitorService`: the probes of one node, built once by the composition root (mirrors ES `MonitorService`)."""

from __future__ import annotations

from pathlib import Path

from node.monitor.fs_probe import FsProbe
from node.monitor.http_stats import HttpStats
from node.monitor.jvm_probe import JvmProbe
from node.monitor.os_probe import OsProbe
from node.monitor.process_probe import ProcessProbe

__all__ = ["MonitorService"]


class MonitorService:
    """The node's `os`, `process`, `jvm` and `fs` probes and its HTTP connection counts."""

    def __init__(self, data_path: Path, started_at_millis: int) -> None:
        self.os = OsProbe()
        self.process = ProcessProbe()
        self.jvm = JvmProbe(started_at_millis)
        self.fs = FsProbe(data_path)
        self.http = HttpStats()

    def close(self) -> None:
        self.jvm.close()
