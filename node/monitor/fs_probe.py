"""The `fs` section of node stats (mirrors ES `FsProbe` / `FsInfo`): the file system of the node's data path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from node.monitor.proc import now_millis, read_text

__all__ = ["FsProbe"]


def _mount_of(path: Path) -> tuple[str, str, str]:
    """(mount point, device, type) of the longest `/proc/mounts` entry containing `path`."""
    best = ("/", "", "")
    resolved = str(path.resolve())
    for line in read_text("/proc/mounts").splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        device, point, fs_type = parts[0], parts[1], parts[2]
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[0]):
            best = (point, device, fs_type)
    return best


class FsProbe:
    def __init__(self, data_path: Path) -> None:
        self._data_path = data_path

    def stats(self) -> dict[str, Any]:
        try:
            usage = shutil.disk_usage(self._data_path)
            vfs = os.statvfs(self._data_path)
            total, free, available = usage.total, vfs.f_bfree * vfs.f_frsize, usage.free
        except OSError:
            total = free = available = 0
        point, device, fs_type = _mount_of(self._data_path)
        sizes = {"total_in_bytes": total, "free_in_bytes": free, "available_in_bytes": available}
        return {
            "timestamp": now_millis(),
            "total": dict(sizes),
            "data": [
                {"path": str(self._data_path), "mount": f"{point} ({device})", "type": fs_type, **sizes},
            ],
            "io_stats": {},
        }
