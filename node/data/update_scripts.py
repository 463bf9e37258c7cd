"""The Painless update scripts simcluster runs: the forms that update, reindex and update-by-query scripts use most,
interpreted over the script's `ctx` (ES `UpdateScript`, `ReindexScript`, `UpdateByQueryScript` contexts).

Statements are separated by `;` (or new lines). What runs:

| form | effect |
| --- | --- |
| `ctx._source.f = <expr>`, `ctx._source['f'] = ...`, `ctx._source.a.b = ...` | sets a field (creating objects on the way) |
| `ctx._source.f += <expr>` (also `-=`, `*=`, `/=`), `ctx._source.f++`, `ctx._source.f--` | arithmetic on a field; `+=` on strings concatenates |
| `ctx._source.remove('f')`, `ctx._source.a.remove('b')` | removes a field |
| `ctx._source.tags.add(<expr>)`, `ctx._source.put('f', <expr>)` | appends to a list, sets a field |
| `ctx.op = 'noop'` / `'none'` / `'delete'` / `'index'` | what happens to the document |
| `ctx._id = ...`, `ctx._index = ...`, `ctx._routing = ...` | a reindex script's destination |

Expressions are literals (numbers, `'strings'`, `"strings"`, `true`, `false`, `null`), `params.x`,
`params['x']`, `ctx._source.f`, `ctx._id`, ..., parentheses, unary minus and `+ - * / %` with Java's precedence
(integer division of integers). Any other statement (`if`, loops, method calls on other objects, ...) is accepted
and ignored: `ignored` lists them, and the README says so. Arithmetic on a missing field is Painless's
`null_pointer_exception`, raised as ES's `script_exception` (`runtime error`, 400).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from node.errors import ElasticsearchError

__all__ = ["ScriptError", "ScriptRun", "run_script", "script_source"]


class ScriptError(ElasticsearchError):
    """ES `ScriptException`: a Painless script failed at run time."""

    es_type = "script_exception"
    default_status = 400


class _NullPointer(ElasticsearchError):
    es_type = "null_pointer_exception"
    default_status = 400
    es_level = False


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+\.\d*|\.\d+|\d+)[LlFfDd]?|(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)|(?P<op>\+\+|--|\+=|-=|\*=|/=|==|!=|<=|>=|&&|\|\||[-+*/%=.\[\](),!<>]))"
)


class _Unsupported(Exception):
    """A statement outside the supported forms: skipped."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise _Unsupported(text)
        position = match.end()
        if match.group("number") is not None:
            raw = match.group("number")
            out.append(("value", float(raw) if "." in raw else int(raw)))
        elif match.group("string") is not None:
            raw = match.group("string")[1:-1]
            out.append(("value", re.sub(r"\\(.)", r"\1", raw)))
        elif match.group("name") is not None:
            name = match.group("name")
            if name in ("true", "false", "null"):
                out.append(("value", {"true": True, "false": False, "null": None}[name]))
            else:
                out.append(("name", name))
        else:
            out.append(("op", match.group("op")))
    return out


def _split_statements(source: str) -> list[str]:
    """Top-level statements: split at `;` and new lines outside quotes, brackets and braces."""
    statements, current, depth, quote = [], [], 0, ""
    for char in source:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char in ";\n" and depth <= 0:
            statements.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    statements.append("".join(current).strip())
    return [s for s in statements if s]


@dataclass(slots=True)
class ScriptRun:
    """The context a script changes (`ctx`), and the statements it skipped."""

    ctx: dict[str, Any]
    params: Mapping[str, Any]
    source: str
    ignored: list[str] = field(default_factory=list)


class _Parser:
    """A recursive-descent reader of one statement's tokens."""

    def __init__(self, tokens: list[tuple[str, Any]], run: ScriptRun) -> None:
        self.tokens = tokens
        self.at = 0
        self.run = run

    def peek(self, offset: int = 0) -> tuple[str, Any] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise _Unsupported("unexpected end")
        self.at += 1
        return token

    def expect(self, op: str) -> None:
        if self.take() != ("op", op):
            raise _Unsupported(op)

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in ops

    # ---- paths: ctx.x, ctx._source.a['b'], params.x -------------------------------------------------------------

    def path(self) -> list[Any]:
        kind, name = self.take()
        if kind != "name" or name not in ("ctx", "params"):
            raise _Unsupported(name)
        parts: list[Any] = [name]
        while self.at_op(".", "["):
            if self.at_op("."):
                nxt = self.peek(1)
                after = self.peek(2)
                if nxt is not None and nxt[0] == "name" and after == ("op", "("):
                    break  # a method call on what we have so far
                self.take()
                kind, key = self.take()
                if kind != "name":
                    raise _Unsupported(key)
                parts.append(key)
            else:
                self.take()
                kind, key = self.take()
                if kind != "value":
                    raise _Unsupported(key)
                self.expect("]")
                parts.append(key)
        return parts

    def read(self, parts: list[Any]) -> Any:
        node: Any = self.run.ctx if parts[0] == "ctx" else self.run.params
        for key in parts[1:]:
            if isinstance(node, Mapping):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
                node = node[key]
            else:
                return None
        return copy.deepcopy(node)

    def container(self, parts: list[Any], create: bool) -> Any:
        if parts[0] != "ctx":
            raise _Unsupported("params are read-only")
        node: Any = self.run.ctx
        for key in parts[1:-1]:
            if isinstance(node, dict):
                if not isinstance(node.get(key), dict | list):
                    if not create:
                        return None
                    node[key] = {}
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int):
                node = node[key]
            else:
                raise _Unsupported("not an object")
        return node

    # ---- expressions --------------------------------------------------------------------------------------------

    def expression(self) -> Any:
        value = self.term()
        while self.at_op("+", "-"):
            op = self.take()[1]
            value = _arith(op, value, self.term(), self.run)
        return value

    def term(self) -> Any:
        value = self.factor()
        while self.at_op("*", "/", "%"):
            op = self.take()[1]
            value = _arith(op, value, self.factor(), self.run)
        return value

    def factor(self) -> Any:
        token = self.peek()
        if token is None:
            raise _Unsupported("unexpected end")
        if token == ("op", "("):
            self.take()
            value = self.expression()
            self.expect(")")
            return value
        if token == ("op", "-"):
            self.take()
            return _arith("-", 0, self.factor(), self.run)
        if token[0] == "value":
            self.take()
            return token[1]
        return self.read(self.path())

    # ---- statements ---------------------------------------------------------------------------------------------

    def statement(self) -> None:
        """Parses the whole statement, then runs it (a statement that does not parse changes nothing)."""
        parts = self.path()
        if self.at_op("."):  # a method call: remove, add, put
            self.take()
            _, method = self.take()
            self.expect("(")
            args = []
            while not self.at_op(")"):
                args.append(self.expression())
                if self.at_op(","):
                    self.take()
            self.expect(")")
            self.end()
            self.call(parts, method, args)
        elif self.at_op("++", "--"):
            op = self.take()[1]
            self.end()
            self.assign(parts, _arith(op[0], self.read(parts), 1, self.run))
        elif self.at_op("=", "+=", "-=", "*=", "/="):
            op = self.take()[1]
            value = self.expression()
            self.end()
            if op != "=":
                value = _arith(op[0], self.read(parts), value, self.run)
            self.assign(parts, value)
        else:
            raise _Unsupported("not a statement")

    def end(self) -> None:
        if self.peek() is not None:
            raise _Unsupported("trailing tokens")

    def assign(self, parts: list[Any], value: Any) -> None:
        if len(parts) < 2:
            raise _Unsupported("ctx itself")
        target = self.container(parts, create=True)
        key = parts[-1]
        if isinstance(target, dict) or (isinstance(target, list) and isinstance(key, int)):
            target[key] = value
        else:
            raise _Unsupported("not assignable")

    def call(self, parts: list[Any], method: str, args: list[Any]) -> None:
        target = self.read(parts) if parts[0] == "params" else _resolve(self.run.ctx, parts[1:])
        if method == "remove" and len(args) == 1 and isinstance(target, dict):
            target.pop(args[0], None)
        elif method == "remove" and len(args) == 1 and isinstance(target, list) and isinstance(args[0], int):
            target.pop(args[0])
        elif method == "add" and len(args) == 1 and isinstance(target, list):
            target.append(args[0])
        elif method == "put" and len(args) == 2 and isinstance(target, dict):
            target[args[0]] = args[1]
        elif target is None and method in ("add", "remove", "put"):
            _null_pointer(self.run, f'Cannot invoke "Object.{method}()" because the value is null')
        else:
            raise _Unsupported(method)


def _resolve(node: Any, keys: list[Any]) -> Any:
    for key in keys:
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int):
            node = node[key]
        else:
            return None
    return node


def _null_pointer(run: ScriptRun, reason: str) -> None:
    raise ScriptError(
        "runtime error",
        metadata={"script_stack": [], "script": run.source, "lang": "painless"},
        cause=_NullPointer(reason),
    )


def _arith(op: str, left: Any, right: Any, run: ScriptRun) -> Any:
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        return f"{_java_text(left)}{_java_text(right)}"
    if left is None or right is None or isinstance(left, bool | str) or isinstance(right, bool | str):
        _null_pointer(run, "Cannot apply [" + op + "] to a value that is null or not a number")
    if isinstance(left, int) and isinstance(right, int):
        return _as_long(_int_arith(op, left, right, run))
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    return math.fmod(left, right)  # Java's remainder takes the dividend's sign


def _int_arith(op: str, left: int, right: int, run: ScriptRun) -> int:
    """Painless `long` arithmetic: division truncates toward zero, by zero fails."""
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise ScriptError(
            "runtime error", metadata={"script_stack": [], "script": run.source, "lang": "painless"},
            cause=_arithmetic("/ by zero"),
        )  # fmt: skip
    quotient = abs(left) // abs(right)
    quotient = quotient if (left >= 0) == (right >= 0) else -quotient  # Java truncates toward zero
    return quotient if op == "/" else left - right * quotient


def _as_long(value: int) -> int:
    """A Java `long`: wraps around at 64 bits, so no script can grow a number without bound."""
    return ((value + _LONG_SPAN // 2) % _LONG_SPAN) - _LONG_SPAN // 2


_LONG_SPAN = 1 << 64

# What a Python failure inside a supported statement is in Painless's terms (the cause of ES's `script_exception`).
_RUNTIME_CAUSES: tuple[tuple[type[Exception], str], ...] = (
    (ZeroDivisionError, "arithmetic_exception"),
    (ArithmeticError, "arithmetic_exception"),
    (IndexError, "index_out_of_bounds_exception"),
    (TypeError, "class_cast_exception"),
    (Exception, "illegal_argument_exception"),
)


def _runtime_error(run: ScriptRun, error: Exception) -> ScriptError:
    es_type = next(t for cls, t in _RUNTIME_CAUSES if isinstance(error, cls))
    reason = "/ by zero" if isinstance(error, ZeroDivisionError) else str(error)
    return ScriptError(
        "runtime error",
        metadata={"script_stack": [], "script": run.source, "lang": "painless"},
        cause=ElasticsearchError(reason, es_type=es_type, status=400),
    )


def _arithmetic(reason: str) -> ElasticsearchError:
    return ElasticsearchError(reason, es_type="arithmetic_exception", status=400)


def _java_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def script_source(script: Mapping[str, Any] | str | None) -> str:
    """The Painless source of an inline script (`{"source": ...}`, the older `inline`, or a bare string)."""
    if script is None:
        return ""
    if isinstance(script, str):
        return script
    source = script.get("source", script.get("inline", ""))
    return source if isinstance(source, str) else ""


def run_script(script: Mapping[str, Any] | str, ctx: dict[str, Any]) -> ScriptRun:
    """Runs `script` over `ctx` (changed in place), statement by statement.

    Raises:
        ScriptError: a supported statement failed at run time (a null or non-number in arithmetic).
    """
    params = script.get("params", {}) if isinstance(script, Mapping) else {}
    run = ScriptRun(ctx, params if isinstance(params, Mapping) else {}, script_source(script))
    for statement in _split_statements(run.source):
        try:
            _Parser(_tokens(statement), run).statement()
        except _Unsupported:
            run.ignored.append(statement)
        except ElasticsearchError:
            raise
        except Exception as e:  # noqa: BLE001 - an index out of range, a list plus a number: one item's 400, as in ES
            raise _runtime_error(run, e) from None
    return run
