"""What a node reports about the machine and the process it runs in (mirrors ES `org.elasticsearch.monitor`).

Each probe reads Linux's `/proc` (or the standard library where Linux has no file for it) and renders the section of
`GET /_nodes/stats` it owns with ES's field names: `OsProbe` → `os`, `ProcessProbe` → `process`, `JvmProbe` → `jvm`
(the Python process in the JVM's shape), `FsProbe` → `fs`; `HttpStats` counts the REST server's connections. Where a
value does not exist for a Python process, the probe reports ES's field with an honest stand-in, said in its
docstring. Probes read files, so callers run them off the event loop (`asyncio.to_thread`).
"""

from node.monitor.fs_probe import FsProbe
from node.monitor.http_stats import HttpStats
from node.monitor.jvm_probe import JvmProbe, heap_max_bytes
from node.monitor.os_probe import OsProbe
from node.monitor.proc import read_key_values
from node.monitor.process_probe import ProcessProbe
from node.monitor.service import MonitorService

__all__ = [
    "FsProbe",
    "HttpStats",
    "JvmProbe",
    "MonitorService",
    "OsProbe",
    "ProcessProbe",
    "heap_max_bytes",
    "read_key_values",
]
