"""Giving the memory of large requests back to the system (glibc's `malloc_trim`).

glibc serves an allocation of 128 KiB or more with its own mmap, returned on free, but raises that threshold to the
size of any such block freed (up to 32 MiB). After one large body, the 256 KiB reads of the next ones come from the
heap, and whatever small object is allocated after them keeps those pages: a node kept 10–60 MB after a burst of
99 MB bodies. `malloc_trim(0)` hands every free page of every arena back. Fixing the threshold instead
(`M_MMAP_THRESHOLD`) would cost every large listing its page faults (a 10,000-task `GET /_tasks` took a third longer).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

__all__ = ["release_free_memory"]


def _malloc_trim() -> Callable[[], object] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return lambda: trim(0)


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Returns the C library's free pages to the system; False where there is no `malloc_trim` (not glibc)."""
    if _TRIM is None:
        return False
    _TRIM()
    return True
