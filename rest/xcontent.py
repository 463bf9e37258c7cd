"""JSON and YAML text exactly as ES writes it (Jackson's generator and jackson-dataformat-yaml on SnakeYAML).

`to_json` writes compact JSON, or with `pretty` Jackson's `DefaultPrettyPrinter` layout (`"key" : value`, `{ }`, a
trailing newline); `to_yaml` writes a block-style document (`---`, double-quoted strings, 80-column folding of long
strings). Both print doubles as Java does (`1.0E-8`); compact JSON goes through `json.dumps` whenever its text is
provably the same, because the C encoder is several times faster.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring

from node.human import format_java_double

__all__ = ["to_json", "to_yaml"]


# Each starts with a literal so `re` scans at C speed: scientific notation, `0.000…`, eight digits before the point.
_PYTHON_ONLY_DOUBLES = tuple(
    re.compile(pattern)
    for pattern in (r"e-(?<=[0-9]e-)[0-9]", r"e\+(?<=[0-9]e\+)[0-9]", r"0\.000", r"\.(?<=[0-9]{8}\.)")
)
_LOWER_HEX_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u00([0-9a-f]{2})")


def _upper_case_escapes(encoded: str) -> str:
    """Jackson escapes control characters with upper-case hex digits where Python writes lower case."""
    return _LOWER_HEX_ESCAPE.sub(lambda m: f"{m.group(1)}\\u00{m.group(2).upper()}", encoded)


def _json_string(text: str) -> str:
    encoded: str = encode_basestring(text)
    return _upper_case_escapes(encoded) if "\\u00" in encoded else encoded


def _compact_json(value: object) -> str | None:
    """Compact JSON through the C encoder, or None when its text could differ from Jackson's.

    Python's float repr is Java's `Double.toString` except in scientific notation (below 1e-4), for `0.000…` and
    from 1e7 up, and for NaN and Infinity; when the output shows any of these shapes (maybe inside a string, which
    only costs a slower exact pass), the caller writes the value itself.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except TypeError:  # a mapping that is not a dict: the exact writer handles it
        return None
    if "NaN" in text or "Infinity" in text or any(pattern.search(text) for pattern in _PYTHON_ONLY_DOUBLES):
        return None
    return _upper_case_escapes(text) if "\\u00" in text else text


def _write_json(value: object, out: list[str], indent: str | None) -> None:
    """Appends `value`; `indent` is None for compact output, else the current line break plus indentation."""
    if isinstance(value, str):
        out.append(_json_string(value))
    elif value is None or value is True or value is False:
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        text = format_java_double(value)
        out.append(text if math.isfinite(value) else f'"{text}"')  # Jackson quotes NaN and Infinity
    elif isinstance(value, Mapping):
        separator = ":" if indent is None else " : "
        _write_members(((_json_string(str(k)) + separator, v) for k, v in value.items()), "{}", out, indent)
    elif isinstance(value, (list, tuple)):
        _write_members((("", item) for item in value), "[]", out, indent)
    else:
        raise TypeError(f"cannot render {type(value).__name__} as JSON")


def _write_members(members: Iterable[tuple[str, object]], brackets: str, out: list[str], indent: str | None) -> None:
    """An object's or array's members, as Jackson's `DefaultPrettyPrinter` lays them out: `{ }` when empty."""
    inner = None if indent is None else indent + "  "
    out.append(brackets[0])
    count = 0
    for prefix, item in members:
        if count:
            out.append(",")
        if inner is not None:
            out.append(inner)
        out.append(prefix)
        _write_json(item, out, inner)
        count += 1
    if indent is not None:
        out.append(indent if count else " ")
    out.append(brackets[1])


# ---------------------------------------------------------------------------------------------------------------
# YAML, as SnakeYAML's Emitter writes the events jackson-dataformat-yaml sends it.

_YAML_WIDTH = 80
# Names SnakeYAML's analysis always lets through plain (`node`, `X-Opaque-Id`, `Hr8x...:4711`): a shortcut only.
_YAML_ORDINARY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*(?::[A-Za-z0-9_./-]+)*")
# Strings the double-quoted writer copies verbatim: printable ASCII without `"` or `\`.
_YAML_VERBATIM = re.compile(r"[ !#-\[\]-~]*")
_YAML_LINE_BREAKS = "\n\x85\u2028\u2029"
_YAML_ESCAPES = {"\0": "0", "\x07": "a", "\b": "b", "\t": "t", "\n": "n", "\x0b": "v", "\f": "f", "\r": "r",
                 "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P"}  # fmt: skip
# Jackson's StringQuotingChecker: names that would read back as booleans or null.
_YAML_RESERVED = frozenset(["false", "False", "FALSE", "n", "N", "no", "No", "NO", "null", "Null", "NULL", "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES"])  # fmt: skip


def _yaml_printable(code: int) -> bool:
    return (0x20 <= code <= 0x7E or code in (0x9, 0xA, 0xD, 0x85) or 0xA0 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF)  # fmt: skip


def _plain_allowed(text: str) -> tuple[bool, bool]:
    """SnakeYAML `Emitter#analyzeScalar`, reduced to (plain allowed in block context, single quotes allowed)."""
    if _YAML_ORDINARY_NAME.fullmatch(text):
        return True, True
    block_indicators = text.startswith(("---", "..."))
    leading_zero = len(text) > 1 and text[0] == "0" and all(c in "0123456789_" for c in text[1:])
    special = False
    edges = text[0] in " " + _YAML_LINE_BREAKS or text[-1] in " " + _YAML_LINE_BREAKS
    break_space = space_break = False
    preceded_by_space, followed_by_space = True, len(text) == 1 or text[1] in "\0 \t\r" + _YAML_LINE_BREAKS
    for index, char in enumerate(text):
        if index == 0:
            block_indicators |= char in "#,[]{}&*!|>'\"%@`" or (char in "?:-" and followed_by_space)
        else:
            block_indicators |= (char == ":" and followed_by_space) or (char == "#" and preceded_by_space)
        code, is_break = ord(char), char in _YAML_LINE_BREAKS
        special |= not (char == "\n" or 0x20 <= code <= 0x7E or (code > 0x7E and _yaml_printable(code)))
        if index:
            break_space |= char == " " and text[index - 1] in _YAML_LINE_BREAKS
            space_break |= is_break and text[index - 1] == " "
        preceded_by_space = char in "\0 \t" or is_break
        followed_by_space = index + 2 >= len(text) or text[index + 2] in "\0 \t" or is_break
    single = not (break_space or space_break or special)
    return single and not (edges or leading_zero or block_indicators), single


def _scalar_text(value: bool | int | float | None) -> str:
    """What Jackson hands SnakeYAML for a non-string scalar: Java's text of the value."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    return format_java_double(value) if isinstance(value, float) else str(value)


class _YamlEmitter:
    """The block-style subset of SnakeYAML's `Emitter`, ported state for state (column, indentation, splitting)."""

    __slots__ = ("_column", "_indent", "_indention", "_indents", "_out", "_whitespace")

    def __init__(self) -> None:
        self._out: list[str] = []
        self._column, self._whitespace, self._indention = 0, True, True
        self._indent: int | None = None
        self._indents: list[int | None] = []

    def document(self, value: object) -> str:
        self._write_indent()
        self._indicator("---", True)
        self._node(value, mapping=False)
        self._write_indent()
        return "".join(self._out)

    def _emit(self, text: str) -> None:
        self._column += len(text)
        self._out.append(text)

    def _indicator(self, text: str, need_whitespace: bool, whitespace: bool = False, indention: bool = False) -> None:
        if not self._whitespace and need_whitespace:
            self._emit(" ")
        self._whitespace, self._indention = whitespace, self._indention and indention
        self._emit(text)

    def _write_indent(self) -> None:
        indent = self._indent or 0
        if not self._indention or self._column > indent or (self._column == indent and not self._whitespace):
            self._out.append("\n")
            self._column, self._whitespace, self._indention = 0, True, True
        if indent > self._column:
            self._whitespace = True
            self._emit(" " * (indent - self._column))

    def _push_indent(self, flow: bool, indentless: bool) -> None:
        self._indents.append(self._indent)
        if self._indent is None:
            self._indent = 2 if flow else 0
        elif not indentless:
            self._indent += 2

    def _node(self, value: object, mapping: bool) -> None:
        if isinstance(value, (Mapping, list, tuple)) and not value:
            self._indicator("{" if isinstance(value, Mapping) else "[", True, True)
            self._indicator("}" if isinstance(value, Mapping) else "]", False)
        elif isinstance(value, Mapping):
            self._push_indent(flow=False, indentless=False)
            for key, item in value.items():
                self._write_indent()
                name = str(key)
                # Jackson's needToQuoteName; names holding a YAML line break are quoted too, where SnakeYAML would
                # fold a plain multi-line key (no ES response has one).
                quoted = (not name or name in _YAML_RESERVED or name[0] in "~0123456789-+."
                          or any(c < " " or c in _YAML_LINE_BREAKS for c in name))  # fmt: skip
                if name and len(name) < 128 and not any(c in _YAML_LINE_BREAKS for c in name):  # a simple key
                    self._scalar(name, quoted, simple_key=True)
                    self._indicator(":", False)
                else:
                    self._indicator("?", True, False, True)
                    self._scalar(name, quoted, simple_key=False)
                    self._write_indent()
                    self._indicator(":", True, False, True)
                self._node(item, mapping=True)
            self._indent = self._indents.pop()
        elif isinstance(value, (list, tuple)):
            self._push_indent(flow=False, indentless=mapping and not self._indention)
            for item in value:
                self._write_indent()
                self._indicator("-", True, False, True)
                self._node(item, mapping=False)
            self._indent = self._indents.pop()
        elif isinstance(value, str):
            self._scalar(value, True, simple_key=False)  # Jackson double-quotes every string value
        elif value is None or isinstance(value, (bool, int, float)):
            # Java's text of a number, boolean or null is always a valid plain scalar, and has no space to fold at.
            self._indicator(_scalar_text(value), True)
        else:
            raise TypeError(f"cannot render {type(value).__name__} as YAML")

    def _scalar(self, text: str, double_quoted: bool, simple_key: bool) -> None:
        """SnakeYAML `chooseScalarStyle` + `processScalar` for a scalar Jackson asked to be plain or quoted."""
        self._push_indent(flow=True, indentless=False)
        plain, single = (False, False) if double_quoted or not text else _plain_allowed(text)
        if plain:
            self._write_plain(text, split=not simple_key)
        elif single:
            self._write_single_quoted(text, split=not simple_key)
        else:
            self._write_double_quoted(text, split=not simple_key)
        self._indent = self._indents.pop()

    def _write_plain(self, text: str, split: bool) -> None:
        if not self._whitespace:
            self._emit(" ")
        self._whitespace = self._indention = False
        spaces, start = False, 0
        for end in range(len(text) + 1):
            char = text[end] if end < len(text) else None
            if spaces:
                if char != " ":
                    if start + 1 == end and self._column > _YAML_WIDTH and split:
                        self._write_indent()
                        self._whitespace = self._indention = False
                    else:
                        self._emit(text[start:end])
                    start = end
            elif char is None or char == " ":
                self._emit(text[start:end])
                start = end
            spaces = char == " "

    def _write_single_quoted(self, text: str, split: bool) -> None:
        self._indicator("'", True)
        spaces, start = False, 0
        for end in range(len(text) + 1):
            char = text[end] if end < len(text) else None
            if spaces:
                if char != " ":
                    if start + 1 == end and self._column > _YAML_WIDTH and split and start > 0 and end < len(text):
                        self._write_indent()
                    else:
                        self._emit(text[start:end])
                    start = end
            elif (char is None or char in " '") and start < end:
                self._emit(text[start:end])
                start = end
            if char == "'":
                self._emit("''")
                start = end + 1
            spaces = char == " "
        self._indicator("'", False)

    def _write_double_quoted(self, text: str, split: bool) -> None:
        self._indicator('"', True)
        length = len(text)
        # Shortcut: nothing to escape, and no space past which the line would overflow (the loop would agree).
        if _YAML_VERBATIM.fullmatch(text) and (
            not split or self._column + length - 2 <= _YAML_WIDTH or " " not in text[1 : length - 1]
        ):
            self._emit(text)
            self._indicator('"', False)
            return
        start, end = 0, 0
        while end <= length:
            char = text[end] if end < length else None
            if char is None or char in '"\\\x85\u2028\u2029\ufeff' or not " " <= char <= "~":
                if start < end:
                    self._emit(text[start:end])
                    start = end
                if char is not None:
                    code = ord(char)
                    if char in _YAML_ESCAPES:
                        data = "\\" + _YAML_ESCAPES[char]
                    elif _yaml_printable(code):
                        data = char
                    elif code <= 0xFF:
                        data = f"\\x{code:02x}"
                    else:
                        data = f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
                    self._emit(data)
                    if code > 0xFFFF and data == char:
                        self._column += 1  # Java counts the surrogate pair as two columns
                    start = end + 1
            fold = split and (char == " " or start >= end) and self._column + (end - start) > _YAML_WIDTH
            if fold and 0 < end < length - 1:
                data = "\\" if start >= end else text[start:end] + "\\"
                start = max(start, end)
                self._emit(data)
                self._write_indent()
                self._whitespace = self._indention = False
                if text[start] == " ":
                    self._emit("\\")
            end += 1
        self._indicator('"', False)


def to_json(obj: object, *, pretty: bool = False) -> str:
    if not pretty:
        compact = _compact_json(obj)
        if compact is not None:
            return compact
    out: list[str] = []
    _write_json(obj, out, "\n" if pretty else None)
    if pretty:
        out.append("\n")
    return "".join(out)


def to_yaml(obj: object) -> str:
    return _YamlEmitter().document(obj)
