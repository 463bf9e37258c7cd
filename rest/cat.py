"""The generic `_cat` table engine: ES `Table`, `RestTable` and `AbstractCatAction` (reference §16.2–§16.4).

A cat handler builds a `CatTable` (columns in ES table order, one dict per row) and hands it to `render_cat`,
which applies the cat parameters exactly as ES does: `h` column selection with aliases and wildcards, `s`
sorting, `v` headings, `help`, `time` units, `ts`, and text, JSON or YAML output.

Cat parameters are response parameters in ES (`AbstractCatAction#responseParams`): a handler checks unrecognized
parameters before rendering with `params.check_unrecognized(CAT_RESPONSE_PARAMS)`. `help` is not one of them:
like `AbstractCatAction#prepareRequest`, a handler reads it first and, when set, reads none of its own parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cmp_to_key
from typing import Any, Literal, TypeAlias

from aiohttp import web

from node.errors import UnsupportedOperationError
from node.human import format_duration_nanos, format_java_double, format_time_value_in
from rest.output import TEXT, OutputFormat, negotiate_table, render
from rest.params import Params

__all__ = [
    "CAT_RESPONSE_PARAMS",
    "CatTable",
    "Cell",
    "Column",
    "Duration",
    "cat_response",
    "es_columns",
    "render_cat",
]

CAT_RESPONSE_PARAMS: frozenset[str] = frozenset({"format", "h", "v", "ts", "pri", "bytes", "size", "time", "s"})

# ES Table.TIMESTAMP and Table.EPOCH: the columns `ts=false` hides, in every cat table.
_TIMESTAMP_COLUMNS = ("timestamp", "epoch")


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration cell, ES `TimeValue`: human text (`1.5s`) unless the request asks `?time=<unit>`."""

    nanos: int

    def __str__(self) -> str:
        return format_duration_nanos(self.nanos)


Cell: TypeAlias = str | int | float | bool | Duration | None


@dataclass(frozen=True, slots=True)
class Column:
    """One header cell of an ES `Table`: its name, `alias`, `default` and `desc` attributes.

    `text_align="right"` is ES's `text-align:right` attribute, used by numeric columns such as `heap.percent`; it
    aligns the heading and every cell of the column.
    """

    name: str
    aliases: tuple[str, ...] = ()
    default: bool = True
    description: str | None = None
    text_align: Literal["left", "right"] = "left"


def es_columns(cells: Sequence[tuple[str, str]]) -> tuple[Column, ...]:
    """Columns from ES's `Table#addCell(name, attributes)` strings: `;`-separated `key:value` pairs, `default`
    (true unless `false`), `alias` (comma-separated), `text-align` and `desc` (ES `Table#addCell` splits them the
    same way, on `;` then on the first `:`)."""
    out = []
    for name, attributes in cells:
        attrs = dict(attr.split(":", 1) for attr in attributes.split(";") if ":" in attr)
        aliases = tuple(a for a in attrs.get("alias", "").split(",") if a)
        align: Literal["left", "right"] = "right" if attrs.get("text-align") == "right" else "left"
        out.append(Column(name, aliases, attrs.get("default", "true") != "false", attrs.get("desc"), align))
    return tuple(out)


@dataclass(slots=True)
class CatTable:
    """Columns in table order and rows keyed by column name; a missing key is a null cell."""

    columns: Sequence[Column]
    rows: list[dict[str, Cell]] = field(default_factory=list)

    def alias_map(self) -> dict[str, str]:
        """ES `Table#getAliasMap`: names and aliases to column names; a later column wins a shared alias."""
        names: dict[str, str] = {}
        for column in self.columns:
            for alias in column.aliases:
                names[alias] = column.name
            names[column.name] = column.name
        return names


def _glob(pattern: str, text: str) -> bool:
    """ES `Regex#simpleMatch`: `*` matches any run of characters, nothing else is special."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text, re.DOTALL) is not None


def _timestamp_shown(column: Column, params: Params) -> bool:
    """ES `RestTable#checkOutputTimestamp`."""
    return column.name not in _TIMESTAMP_COLUMNS or params.bool("ts", True)


def _requested_headers(table: CatTable, tokens: list[str]) -> list[str]:
    """ES `RestTable#expandHeadersFromRequest`: wildcards expand to column names, duplicates are dropped."""
    requested: dict[str, None] = {}
    for token in tokens:
        if "*" not in token:
            requested.setdefault(token)
            continue
        for column in table.columns:
            if _glob(token, column.name) or any(_glob(token, alias) for alias in column.aliases):
                requested.setdefault(column.name)
    return list(requested)


def _display_headers(table: CatTable, params: Params) -> list[tuple[Column, str]]:
    """ES `RestTable#buildDisplayHeaders`: each shown column with its heading.

    A column asked for by alias is headed by that alias; an alias several columns share resolves to the last of
    them (so `h=time` shows `running_time`). Unknown names are ignored. Without `h`, the default columns show.
    """
    if not params.has("h"):
        return [(c, c.name) for c in table.columns if c.default and _timestamp_shown(c, params)]
    by_name = {column.name: column for column in table.columns}
    shown = []
    for token in _requested_headers(table, params.list("h")):
        header = (by_name[token], token) if token in by_name else None
        if header is None:
            for column in table.columns:
                if token in column.aliases:
                    header = (column, token)
        if header is not None and _timestamp_shown(header[0], params):
            shown.append(header)
    return shown


def _cell_text(value: Cell, time_unit: str | None) -> str | None:
    """ES `RestTable#renderValue`: the `toString` of the cell, a duration in the requested `time` unit."""
    if value is None:
        return None
    if isinstance(value, Duration):
        return format_time_value_in(value.nanos, time_unit)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_java_double(value)
    return str(value)


def _compare_cells(a: Cell, b: Cell) -> int:
    """ES `TableIndexComparator#compareCell`: nulls first, same types natively, anything else as text."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    left: Any
    right: Any
    if isinstance(a, Duration) and isinstance(b, Duration):
        left, right = a.nanos, b.nanos
    elif type(a) is type(b):
        left, right = a, b
    else:
        left, right = str(_cell_text(a, None)), str(_cell_text(b, None))
    return int(left > right) - int(left < right)


def _row_order(table: CatTable, params: Params) -> list[int]:
    """ES `RestTable#getRowOrder`: a stable sort by `s` keys (names or aliases, `:asc` or `:desc`).

    Raises:
        UnsupportedOperationError: a key that is neither a column name nor an alias (500, as in ES).
    """
    order = list(range(len(table.rows)))
    if not params.has("s"):
        return order
    names = table.alias_map()
    keys: list[tuple[str, bool]] = []
    for token in params.list("s"):
        key, descending = token, False
        if token.endswith(":desc"):
            key, descending = token[: -len(":desc")], True
        elif token.endswith(":asc"):
            key = token[: -len(":asc")]
        if key not in names:
            raise UnsupportedOperationError(f"Unable to sort by unknown sort key `{key}`")
        keys.append((names[key], descending))

    def compare(i: int, j: int) -> int:
        for column, descending in keys:
            result = _compare_cells(table.rows[i].get(column), table.rows[j].get(column))
            if result:
                return -result if descending else result
        return 0

    return sorted(order, key=cmp_to_key(compare))


def _pad(text: str | None, width: int, align: str, last: bool) -> str:
    """ES `RestTable#pad`, including its `byte` arithmetic: a shortfall over 127 wraps around."""
    value = text or ""
    shortfall = (width - len(value) + 128) % 256 - 128
    if shortfall > 0 and align == "right":
        return " " * shortfall + value
    return value if last else value + " " * max(shortfall, 0)


def _line(cells: Sequence[tuple[str | None, str]], widths: Sequence[int]) -> str:
    """One text row: cells padded to their column, one space apart, the last column unpadded."""
    last = len(cells) - 1
    return " ".join(_pad(text, widths[i], align, i == last) for i, (text, align) in enumerate(cells)) + "\n"


def _render_text(table: CatTable, params: Params) -> bytes:
    """ES `RestTable#buildTextPlainResponse`."""
    verbose = params.bool("v", False)
    headers = _display_headers(table, params)
    time_unit = params.str("time")
    texts = [[_cell_text(row.get(column.name), time_unit) for column, _ in headers] for row in table.rows]
    widths = [len(display) if verbose else 0 for _, display in headers]
    for row_texts in texts:
        widths = [max(width, len(text or "")) for width, text in zip(widths, row_texts, strict=True)]
    aligns = [column.text_align for column, _ in headers]
    lines = [_line(list(zip([display for _, display in headers], aligns, strict=True)), widths)] if verbose else []
    lines.extend(_line(list(zip(texts[i], aligns, strict=True)), widths) for i in _row_order(table, params))
    return "".join(lines).encode("utf-8")


def _render_structured(table: CatTable, params: Params, fmt: OutputFormat) -> bytes:
    """ES `RestTable#buildXContentBuilder`: one object per row, keyed by heading, every value a string or null."""
    order = _row_order(table, params)
    headers = _display_headers(table, params)
    time_unit = params.str("time")
    rows = [
        {display: _cell_text(table.rows[i].get(column.name), time_unit) for column, display in headers} for i in order
    ]
    return render(rows, fmt, pretty=params.bool("pretty", False), filter_path=params.list("filter_path") or None)


def _render_help(table: CatTable) -> bytes:
    """ES `AbstractCatAction` help: `name | aliases | description`, every cell padded, the last one too."""
    rows = [
        (c.name, ",".join(c.aliases), c.description if c.description is not None else "not available")
        for c in table.columns
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    return "".join(
        " | ".join(_pad(text, widths[i], "left", last=False) for i, text in enumerate(row)) + "\n" for row in rows
    ).encode("utf-8")


def render_cat(table: CatTable, params: Params, accept: str | None) -> tuple[bytes, str]:
    """Renders a cat table as ES does, returning the body and its `Content-Type`.

    Text is the default; `format=json|yaml`, or an `Accept` naming JSON or YAML without a media range, gives an
    array of row objects through `rest.output.render` (honouring `pretty` and `filter_path`). `help` lists the
    columns instead.

    Raises:
        IllegalArgumentError: a malformed boolean in `v`, `ts`, `help` or `pretty`.
        UnsupportedOperationError: an unknown `s` key.
        MediaTypeHeaderError: a malformed `Accept` header.
    """
    params.consume(*CAT_RESPONSE_PARAMS)
    if params.bool("help", False):
        return _render_help(table), TEXT.content_type
    fmt = negotiate_table(accept, params.str("format"))
    if fmt.kind == "text":
        return _render_text(table, params), fmt.content_type
    return _render_structured(table, params, fmt), fmt.content_type


def cat_response(table: CatTable, params: Params, accept: str | None) -> web.Response:
    """The aiohttp response of a cat handler: `render_cat` with its content type."""
    body, content_type = render_cat(table, params, accept)
    return web.Response(body=body, headers={"Content-Type": content_type})
