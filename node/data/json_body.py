"""Request bodies parsed the way ES's JSON parser reports them (Jackson behind `XContentParser`).

A syntax error becomes `x_content_parse_exception` `[line:column] <Jackson message>`, caused by a
`json_parse_exception` with the same message; the messages are Jackson's for the common mistakes (a missing quote,
comma or colon, an unexpected character, a premature end). The location ends the message as Jackson 2.16+ writes it
with source inclusion disabled, as ES 8.13+ configures it.

Every body goes through `read_json`, which also enforces what Jackson's `StreamReadConstraints` enforce in ES 8.x
and 9.x (ES's `XContentImplUtils` lifts only the string-length limit), before the standard library can fail on the
input with a `RecursionError` or a `ValueError`:

- nesting deeper than 1000 arrays and objects: `Document nesting depth (1001) exceeds the maximum allowed (1000,
  from \\`StreamReadConstraints.getMaxNestingDepth()\\`)`;
- a number of more than 1000 digits: `Number value length (5001) exceeds the maximum allowed (1000, from
  \\`StreamReadConstraints.getMaxNumberLength()\\`)`;
- bytes that are not UTF-8 (`Invalid UTF-8 start byte 0xff`, as Jackson's `UTF8StreamJsonParser`), and the
  non-standard tokens `NaN`, `Infinity` and `-Infinity` Python would accept and Jackson refuses.

Jackson raises its constraint errors as `StreamConstraintsException`; they are reported here as the
`x_content_parse_exception` 400 of a parse error, with that exception as the cause. The checks cost time linear in
the body with a small constant: C-speed scans (`str.count`, `bytes.translate`, `re`) decide whether a body can
break a limit at all, and only a body that can is walked token by token.

A large body would still hold the node's event loop for the whole parse (about 5 ms per MB). `parsed_off_loop` runs
it on a worker thread before the handler, in steps between which the thread hands the GIL back to the loop, and
`parse_json` then returns that outcome for those very bytes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
from array import array
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from node.data.errors import JsonParseError, ParseError, XContentParseError
from node.errors import ElasticsearchError, IllegalArgumentError

__all__ = [
    "MAX_NESTING_DEPTH",
    "MAX_NUMBER_LENGTH",
    "OFF_LOOP_BYTES",
    "allow_nesting_depth",
    "boolean_value",
    "decode_utf8",
    "jackson_error",
    "json_token",
    "parse_json",
    "parse_json_object",
    "parsed_off_loop",
    "read_json",
    "required_body",
]

MAX_NESTING_DEPTH = 1000  # Jackson StreamReadConstraints.DEFAULT_MAX_DEPTH
MAX_NUMBER_LENGTH = 1000  # Jackson StreamReadConstraints.DEFAULT_MAX_NUM_LEN
# The standard library's JSON decoder and encoder, and the renderers, recurse once or a few times per level:
# a document ES accepts must never meet Python's default limit of 1000 frames.
_RECURSION_LIMIT = 4 * MAX_NESTING_DEPTH + 1000

_REDACTED = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"

# A string (possibly unterminated), unrolled so that `re` runs it in linear time.
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*\\?(?:"|\Z)'
_STRINGS = re.compile(_STRING, re.DOTALL)
_STRING_OR_BRACKET = re.compile(_STRING + r"|[\[\]{}]", re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes
# Characters a JSON number is made of; a run of more than MAX_NUMBER_LENGTH of them is the only way to hold a
# number that long (a false alarm inside a string only costs the exact scan).
_NUMBER_CHARS = bytes(1 if chr(i) in "0123456789.eE+-" else 0 for i in range(256))
_LONG_RUN = b"\x01" * (MAX_NUMBER_LENGTH + 1)
_STRING_OR_LONG_RUN = re.compile(_STRING + rf"|[0-9.eE+\-]{{{MAX_NUMBER_LENGTH + 1},}}", re.DOTALL)
_NUMBER_PARTS = re.compile(r"-?([0-9]*)(?:\.([0-9]*))?(?:[eE][+-]?([0-9]*))?")
_SCAN_WINDOW = 1 << 20
_STRING_OR_NON_NUMERIC = re.compile(_STRING + r"|-?Infinity|NaN", re.DOTALL)
_LEADING_WHITESPACE = re.compile(r"\s*")
_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
OFF_LOOP_BYTES = 1 << 20  # bodies from this size on are parsed on a worker thread (`parsed_off_loop`)
# The outcome of `parsed_off_loop` for the current request: its bytes, and their value or their error.
_PARSED: ContextVar[tuple[bytes, Any, XContentParseError | None] | None] = ContextVar("parsed_body", default=None)


def allow_nesting_depth() -> None:
    """Raises Python's recursion limit so that any document within Jackson's limits can be parsed and rendered."""
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)


def _location(text: str, pos: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, pos - line_start + 1


def _char(text: str, pos: int) -> str:
    if pos >= len(text):
        return ""
    c = text[pos]
    return f"('{c}' (code {ord(c)}))"


def _parse_exception(line: int, column: int, detail: str) -> XContentParseError:
    full = f"{detail}\n at [Source: {_REDACTED}; line: {line}, column: {column}]"
    return XContentParseError(line, column, full, cause=JsonParseError(full))


def _constraint_error(text: str, pos: int, what: str, value: int, limit: int, getter: str) -> XContentParseError:
    """Jackson `StreamReadConstraints#_constructException`, located at `pos` of `text`."""
    line, column = _location(text, pos)
    message = f"{what} ({value}) exceeds the maximum allowed ({limit}, from `StreamReadConstraints.{getter}()`)"
    cause = ElasticsearchError(message, status=400, es_type="stream_constraints_exception")
    cause.es_level = False  # type: ignore[misc]  # a Jackson exception: its own root cause, as ES renders it
    return XContentParseError(line, column, message, cause=cause)


def jackson_error(text: str, error: json.JSONDecodeError) -> XContentParseError:
    """The ES error for a JSON syntax error at `error.pos` of `text`."""
    at = _char(text, error.pos)
    message = error.msg
    if not at or message.startswith("Unterminated string"):
        detail = "Unexpected end-of-input" + (" in VALUE_STRING" if message.startswith("Unterminated") else "")
    elif message.startswith("Expecting property name"):
        detail = f"Unexpected character {at}: was expecting double-quote to start field name"
    elif message.startswith("Expecting ',' delimiter"):
        kind = "Array entries" if _innermost_open(text, error.pos) == "[" else "Object entries"
        detail = f"Unexpected character {at}: was expecting comma to separate {kind}"
    elif message.startswith("Expecting ':' delimiter"):
        detail = f"Unexpected character {at}: was expecting a colon to separate field name and value"
    else:
        detail = (
            f"Unexpected character {at}: expected a valid value (JSON String, Number (or 'NaN'/'+INF'/'-INF'), "
            "Array, Object or token 'null', 'true' or 'false')"
        )
    return _parse_exception(error.lineno, error.colno, detail)


def _depths(brackets: str) -> Iterator[int]:
    """The nesting depth after each bracket of a strings-free skeleton, computed at C speed."""
    return itertools.accumulate(array("b", brackets.encode("ascii").translate(_BRACKET_STEPS)))


def _skeleton(text: str) -> str:
    return _NOT_BRACKETS.sub("", _STRINGS.sub("", text))


def _innermost_open(text: str, pos: int) -> str:
    """The innermost bracket still open at `pos`: the one after the last point the depth was one less."""
    skeleton = _skeleton(text[:pos])
    depths = [0, *_depths(skeleton)]  # only on the error path
    final = depths[-1]
    if final <= 0:
        return ""
    opener = len(depths) - 1 - depths[::-1].index(final - 1)
    return skeleton[opener]


def _nesting_error(text: str) -> XContentParseError | None:
    """Jackson's nesting-depth error, or None; the exact walk runs only for a body that really is too deep."""
    windows = range(0, len(text), _SCAN_WINDOW)
    openers = sum(text.count("[", i, i + _SCAN_WINDOW) + text.count("{", i, i + _SCAN_WINDOW) for i in windows)
    if openers <= MAX_NESTING_DEPTH:
        return None
    if max(_depths(_skeleton(text)), default=0) <= MAX_NESTING_DEPTH:
        return None
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()[0]
        if token in "[{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                return _constraint_error(
                    text, match.end(), "Document nesting depth", depth, MAX_NESTING_DEPTH, "getMaxNestingDepth"
                )
        elif token in "]}":
            depth -= 1
    return None


def _may_hold_long_number(data: bytes) -> bool:
    """Whether `data` has a run of number characters longer than Jackson's limit, in 1 MiB windows."""
    for start in range(0, len(data), _SCAN_WINDOW):
        window = data[start : start + _SCAN_WINDOW + MAX_NUMBER_LENGTH]
        if window.translate(_NUMBER_CHARS).find(_LONG_RUN) != -1:
            return True
    return False


def _number_error(text: str, data: bytes) -> XContentParseError | None:
    """Jackson's number-length error (digits of the integer, fraction and exponent parts together), or None."""
    if not _may_hold_long_number(data):
        return None
    for match in _STRING_OR_LONG_RUN.finditer(text):
        if match.group()[0] == '"':
            continue
        parts = _NUMBER_PARTS.match(match.group())
        assert parts is not None  # every part is optional
        length = sum(len(part or "") for part in parts.groups())
        if length > MAX_NUMBER_LENGTH:
            return _constraint_error(
                text, match.start(), "Number value length", length, MAX_NUMBER_LENGTH, "getMaxNumberLength"
            )
    return None


def _non_numeric_error(text: str, token: str) -> XContentParseError:
    """Jackson refuses `NaN` and `Infinity` (`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` is off in ES)."""
    position = next((m.start() for m in _STRING_OR_NON_NUMERIC.finditer(text) if m.group() == token), 0)
    line, column = _location(text, position)
    return _parse_exception(
        line, column, f"Non-standard token '{token}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
    )


def _refuse_constant(token: str) -> Any:
    raise _NonNumericToken(token)


class _NonNumericToken(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _without_lone_surrogates(value: Any) -> Any:
    """`\\ud800` escapes decode to lone surrogates, which no UTF-8 writer accepts: they become `?`, as Java's UTF-8
    encoder writes them. Containers are walked without recursion."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("?", value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _LONE_SURROGATE.sub("?", item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            if any(_LONE_SURROGATE.search(k) for k in item):
                fixed = {_LONE_SURROGATE.sub("?", k): v for k, v in item.items()}
                item.clear()
                item.update(fixed)
            stack.extend((item, k) for k in item)
    return root[0]


def decode_utf8(raw: bytes) -> str:
    """The text of a body, which Jackson's `UTF8StreamJsonParser` requires to be UTF-8.

    Raises:
        XContentParseError: `Invalid UTF-8 start byte 0xff` or `Invalid UTF-8 middle byte 0x41`, at the byte.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        prefix = raw[: e.start].decode("utf-8")
        line, column = _location(prefix, len(prefix))
        if e.reason == "invalid start byte":
            detail = f"Invalid UTF-8 start byte 0x{raw[e.start]:x}"
        elif e.end < len(raw):
            detail = f"Invalid UTF-8 middle byte 0x{raw[e.end]:x}"
        else:
            detail = "Unexpected end-of-input in VALUE_STRING"
        raise _parse_exception(line, column, detail) from None


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A Python-level `object_pairs_hook` on purpose: every object ends a C call, where a worker thread can hand
    the GIL back to the event loop."""
    return dict(pairs)


def read_json(text: str, *, raw: bytes | None = None, yielding: bool = False) -> tuple[Any, int]:
    """The first JSON value of `text` (after whitespace), and the index just past it.

    Args:
        raw: the UTF-8 bytes of `text` when the caller has them, for the C-speed number scan.
        yielding: build objects through Python code (slower), so a worker thread can yield the GIL.

    Raises:
        XContentParseError: a syntax error, a Jackson stream constraint, or a non-standard token.
    """
    error = _nesting_error(text) or _number_error(text, raw if raw is not None else text.encode("utf-8"))
    if error is not None:
        raise error
    allow_nesting_depth()
    decoder = json.JSONDecoder(parse_constant=_refuse_constant, object_pairs_hook=_pairs if yielding else None)
    position = _LEADING_WHITESPACE.match(text).end()  # type: ignore[union-attr]  # `\s*` always matches
    try:
        value, end = decoder.raw_decode(text, position)
    except json.JSONDecodeError as e:
        raise jackson_error(text, e) from None
    except _NonNumericToken as e:
        raise _non_numeric_error(text, e.token) from None
    if _SURROGATE_ESCAPE.search(text, position, end):
        value = _without_lone_surrogates(value)
    return value, end


def parse_json(raw: bytes | str) -> Any:
    """The first JSON value of `raw` (ES reads one value and ignores what follows).

    Raises:
        XContentParseError: a syntax error, invalid UTF-8 or a Jackson stream constraint.
    """
    if not isinstance(raw, bytes):
        return read_json(raw)[0]
    parsed = _PARSED.get()
    if parsed is not None and parsed[0] is raw:  # parsed off the loop for this request
        if parsed[2] is not None:
            raise parsed[2]
        return parsed[1]
    return read_json(decode_utf8(raw), raw=raw)[0]


def _parse_in_steps(raw: bytes) -> tuple[Any, XContentParseError | None]:
    """`parse_json`, in steps: the decoding (one C call, about 0.5 ms per MB), scans of a window each, and the
    parse an object at a time. Decoding in pieces would hand the GIL back sooner, but leaves the worker thread's
    malloc arena holding tens of MB after a large body."""
    try:
        return read_json(decode_utf8(raw), raw=raw, yielding=True)[0], None
    except XContentParseError as e:
        return None, e


@asynccontextmanager
async def parsed_off_loop(raw: bytes) -> AsyncIterator[None]:
    """Parses a large body on a worker thread; within the block, `parse_json(raw)` hands out the outcome.

    The thread holds the GIL only for one step at a time, so the event loop keeps serving while a 100 MB body is
    decoded, checked and parsed.
    """
    value, error = await asyncio.to_thread(_parse_in_steps, raw)
    token = _PARSED.set((raw, value, error))
    try:
        yield
    finally:
        _PARSED.reset(token)


def json_token(value: Any) -> str:
    """The Jackson token that starts a parsed JSON value (`START_OBJECT`, `VALUE_STRING`, ...)."""
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, str):
        return "VALUE_STRING"
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if value is None:
        return "VALUE_NULL"
    return "VALUE_NUMBER"


def required_body(raw: bytes) -> bytes:
    """ES `RestRequest#requiredContent`: any content at all, even a lone newline, is content."""
    if not raw:
        raise ParseError("request body is required")
    return raw


def parse_json_object(raw: bytes, *, required: bool = False) -> dict[str, Any]:
    """A JSON object body; an absent body is `{}` unless `required`.

    Raises:
        ParseError: `request body is required`.
        XContentParseError: a syntax error, or a body that is not an object.
    """
    if not raw.strip():
        if required:
            raise ParseError("request body is required")
        return {}
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise XContentParseError(1, 1, f"Unexpected token [{json_token(value)}], expected [START_OBJECT]")
    return value


def boolean_value(value: Any, default: bool) -> bool:
    """A boolean field of a body as ES's `XContentParser#booleanValue` reads it: `true`/`false`, or those words as
    strings; `default` when the field is absent (None)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")
