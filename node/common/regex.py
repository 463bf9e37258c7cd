"""ES `Regex.simpleMatch`: the `*` patterns of `actions=`, node names and fault rules."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["simple_match"]


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def simple_match(pattern: str, value: str) -> bool:
    """ES `Regex.simpleMatch`: `*` matches any run of characters, everything else is literal and case-sensitive."""
    if "*" not in pattern:
        return pattern == value
    return _wildcard(pattern).fullmatch(value) is not None
