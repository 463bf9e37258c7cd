"""Reading Linux's `/proc` files; every reader answers with zeros or nothing where the file does not exist."""

from __future__ import annotations

import time

__all__ = ["now_millis", "read_key_values", "read_text"]


def now_millis() -> int:
    return time.time_ns() // 1_000_000


def read_text(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def read_key_values(path: str) -> dict[str, int]:
    """`Key:   123 kB` lines (`/proc/meminfo`, `/proc/self/status`) as bytes (kB) or plain numbers."""
    values: dict[str, int] = {}
    for line in read_text(path).splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            continue
        values[key.strip()] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return values
