"""Request bodies parsed the way ES's JSON parser reports them (Jackson behind `XContentParser`).

A syntax error becomes `x_content_parse_exception` `[line:column] <Jackson message>`, caused by a
`json_parse_exception` with the same message; the messages are Jackson's for the common mistakes (a missing quote,
comma or colon, an unexpected character, a premature end). The location ends the message as Jackson 2.16+ writes it
with source inclusion disabled, as ES 8.13+ configures it.
"""

from __future__ import annotations

import json
from typing import Any

from node.data.errors import JsonParseError, ParseError, XContentParseError

__all__ = ["jackson_error", "parse_json", "parse_json_object", "required_body"]

_REDACTED = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"


def _char(text: str, pos: int) -> str:
    if pos >= len(text):
        return ""
    c = text[pos]
    return f"('{c}' (code {ord(c)}))"


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
    line, column = error.lineno, error.colno
    full = f"{detail}\n at [Source: {_REDACTED}; line: {line}, column: {column}]"
    return XContentParseError(line, column, full, cause=JsonParseError(full))


def _innermost_open(text: str, pos: int) -> str:
    depth: list[str] = []
    in_string = escaped = False
    for c in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth.append(c)
        elif c in "]}" and depth:
            depth.pop()
    return depth[-1] if depth else ""


def parse_json(raw: bytes | str) -> Any:
    """The first JSON value of `raw` (ES reads one value and ignores what follows).

    Raises:
        XContentParseError: a syntax error.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    start = len(text) - len(text.lstrip())
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as e:
        raise jackson_error(text, e) from None
    return value


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
        kind = {list: "START_ARRAY", str: "VALUE_STRING", bool: "VALUE_BOOLEAN", type(None): "VALUE_NULL"}.get(
            type(value), "VALUE_NUMBER"
        )
        raise XContentParseError(1, 1, f"Unexpected token [{kind}], expected [START_OBJECT]")
    return value
