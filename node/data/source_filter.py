"""`_source` filtering of hits and get responses (mirrors ES `FetchSourceContext` and `XContentMapValues#filter`).

The body field `_source` is `true`, `false`, a pattern, a list of patterns, or `{"includes": [...], "excludes":
[...]}`; the URL parameters are `_source` (`true`, `false` or patterns), `_source_includes` and `_source_excludes`.
Patterns are full dotted paths with `*` wildcards. An included object keeps everything below it; an excluded path
is removed even under an included object; objects left empty by the filter are dropped, as ES drops them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node.data.errors import ParsingError

__all__ = ["SourceFilter", "parse_source_filter", "source_filter_from_params"]


@dataclass(frozen=True, slots=True)
class SourceFilter:
    """Whether `_source` is returned, and which parts of it."""

    fetch: bool = True
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    @property
    def filters(self) -> bool:
        return bool(self.includes or self.excludes)

    def to_json(self) -> dict[str, Any]:
        return {"fetch": self.fetch, "includes": list(self.includes), "excludes": list(self.excludes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SourceFilter:
        if not data:
            return cls()
        return cls(bool(data.get("fetch", True)), tuple(data.get("includes", ())), tuple(data.get("excludes", ())))

    def apply(self, source: Mapping[str, Any]) -> dict[str, Any]:
        """The filtered copy of `source` (the same content when nothing filters)."""
        if not self.filters:
            return dict(source)
        includes = [_compile(p) for p in self.includes]
        excludes = [_compile(p) for p in self.excludes]
        return _filter_map(source, "", includes, excludes, included=not includes)


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    regex: re.Pattern[str]

    def match(self, path: str) -> bool:
        return self.regex.match(path) is not None

    def may_match_below(self, path: str) -> bool:
        """Whether a path below the object at `path` may match (`obj.*`, `obj.field`, `*.x`)."""
        below = path + "."
        literal = self.text.split("*", 1)[0]
        if "*" not in self.text:
            return self.text.startswith(below)
        return below.startswith(literal) or literal.startswith(below)


def _compile(pattern: str) -> _Pattern:
    return _Pattern(pattern, re.compile(fnmatch.translate(pattern)))


def _filter_value(value: Any, path: str, includes: Sequence[_Pattern], excludes: Sequence[_Pattern],
                  included: bool) -> tuple[bool, Any]:  # fmt: skip
    if isinstance(value, Mapping):
        filtered = _filter_map(value, path, includes, excludes, included)
        return (bool(filtered) or (included and not value)), filtered
    if isinstance(value, list):
        items = []
        for item in value:
            keep, kept = _filter_value(item, path, includes, excludes, included)
            if keep:
                items.append(kept)
        return (bool(items) or (included and not value)), items
    return included, value


def _filter_map(source: Mapping[str, Any], prefix: str, includes: Sequence[_Pattern],
                excludes: Sequence[_Pattern], included: bool) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    for key, value in source.items():
        path = f"{prefix}.{key}" if prefix else key
        if any(p.match(path) for p in excludes):
            continue
        here = included or any(p.match(path) for p in includes)
        if not here and not (isinstance(value, Mapping | list) and any(p.may_match_below(path) for p in includes)):
            continue
        keep, kept = _filter_value(value, path, includes, excludes, here)
        if keep:
            out[key] = kept
    return out


def _patterns(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ParsingError(f"Expected [VALUE_STRING] or [START_ARRAY] in [{field}] but found [{type(value).__name__}]")


def parse_source_filter(value: Any) -> SourceFilter:
    """The body form of `_source` (ES `FetchSourceContext#fromXContent`).

    Raises:
        ParsingError: a value of another shape.
    """
    if value is None or value is True:
        return SourceFilter()
    if value is False:
        return SourceFilter(fetch=False)
    if isinstance(value, str | list):
        return SourceFilter(includes=_patterns(value, "_source"))
    if isinstance(value, Mapping):
        includes: tuple[str, ...] = ()
        excludes: tuple[str, ...] = ()
        for key, patterns in value.items():
            if key in ("includes", "include"):
                includes = _patterns(patterns, key)
            elif key in ("excludes", "exclude"):
                excludes = _patterns(patterns, key)
            else:
                raise ParsingError(
                    f"Unknown key for a {'START_ARRAY' if isinstance(patterns, list) else 'VALUE_STRING'} in [{key}]."
                )
        return SourceFilter(includes=includes, excludes=excludes)
    raise ParsingError(
        "Expected one of [VALUE_BOOLEAN, VALUE_STRING, START_ARRAY, START_OBJECT] but found [VALUE_NUMBER]"
    )


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(",") if p)


def source_filter_from_params(
    source: str | None, includes: str | None, excludes: str | None, default: SourceFilter | None = None
) -> SourceFilter:
    """The URL form (ES `FetchSourceContext#parseFromRestRequest`): `_source=false`, `_source=a,b`,
    `_source_includes=...`, `_source_excludes=...`; `default` when none is given."""
    if source is None and includes is None and excludes is None:
        return default if default is not None else SourceFilter()
    fetch = True
    source_includes: tuple[str, ...] = ()
    if source is not None:
        if source.lower() in ("true", "false", ""):
            fetch = source.lower() != "false"
        else:
            source_includes = _split(source)
    return SourceFilter(fetch, _split(includes) or source_includes, _split(excludes))
