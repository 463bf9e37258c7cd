"""The query DSL evaluated against stored documents (mirrors the queries of ES `org.elasticsearch.index.query` that
matter for testing client code, without Lucene).

`compile_query` turns a query body into a `Query`: a predicate over one document and whether it scores. It is run
on the coordinating node first, so a malformed query is a 400 before any shard is asked (ES parses the search
source there too), and again on every shard. Supported, with ES's matching rules:

| query | matches |
| --- | --- |
| `match_all`, `match_none` | every document, none |
| `ids` | `values` among the document's `_id` |
| `term`, `terms` | a value equal to the term: exact for numbers, booleans and `.keyword`; for text, one of its tokens |
| `range` | `gt`, `gte`, `lt`, `lte` (and the old `from`/`to`/`include_*`): numbers, strings, ISO dates, `now` math |
| `exists` | a field with a non-null value |
| `match` | text: any (`operator: or`, default) or all (`and`) of the query's tokens, `minimum_should_match`; other values: equality |
| `match_phrase`, `prefix`, `wildcard` | the tokens in sequence; a token or keyword starting with / matching the pattern |
| `bool` | `must`, `filter`, `must_not`, `should` with `minimum_should_match` (ES's defaults: 1 when only `should`) |
| `constant_score` | its `filter` |
| `query_string`, `simple_query_string` (and `q=`) | `*`, `field:value` and bare words (any field), joined by OR |

Any other query type is accepted and matches every document (documented in the README). Text is analyzed as ES's
`standard` analyzer does for Latin text: lower-cased words (`\\w+`). A string value of a dynamically mapped field is
`text` with a `.keyword` sub-field that holds strings up to 256 characters (ES's dynamic mapping, `ignore_above`).

Scores are simulated: a matching document scores 1.0, or 0.0 when the query is pure filter context (`bool` of only
`filter`/`must_not`), as ES gives those; no BM25.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node.data.errors import ParsingError

__all__ = ["Document", "Query", "analyze", "compile_query", "field_values", "parse_date_math"]

KEYWORD_SUFFIX = ".keyword"
IGNORE_ABOVE = 256  # ES's dynamic `keyword` sub-field of strings
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Document:
    """What a query sees of a stored document."""

    id: str
    source: Mapping[str, Any]


Predicate = Callable[[Document], bool]


@dataclass(frozen=True, slots=True)
class Query:
    """A compiled query: `matches(doc)`; `scoring` is False for pure filter context (hits score 0.0)."""

    matches: Predicate
    scoring: bool = True
    match_all: bool = False  # matches every document: the shard may skip reading sources

    def score(self) -> float:
        return 1.0 if self.scoring else 0.0


MATCH_ALL = Query(lambda doc: True, match_all=True)


def analyze(text: str) -> list[str]:
    """The tokens of ES's `standard` analyzer for Latin text: words, lower-cased."""
    return _WORD.findall(text.lower())


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield value


def _walk(node: Any, parts: Sequence[str]) -> Iterator[Any]:
    """Values at `parts` below `node`, through objects and arrays; a key may itself contain dots (`"a.b": 1`)."""
    if not parts:
        yield from _leaves(node)
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, parts)
        return
    if not isinstance(node, Mapping):
        return
    for i in range(1, len(parts) + 1):
        key = ".".join(parts[:i])
        if key in node:
            yield from _walk(node[key], parts[i:])


def field_values(source: Mapping[str, Any], field: str) -> list[Any]:
    """The non-null leaf values of `field` (a dotted path) in `source`, arrays flattened.

    `x.keyword` that is not in the document reads the strings of `x` up to 256 characters: the `keyword` sub-field
    ES's dynamic mapping gives every string field.
    """
    if "." not in field:  # the common case, without walking paths
        value = source.get(field)
        if value is None:
            return []
        if not isinstance(value, Mapping | list):
            return [value]
    values = [v for v in _walk(source, field.split(".")) if not isinstance(v, Mapping)]
    if values or not field.endswith(KEYWORD_SUFFIX):
        return values
    base = field[: -len(KEYWORD_SUFFIX)]
    return [v for v in _walk(source, base.split(".")) if isinstance(v, str) and len(v) <= IGNORE_ABOVE]


def _has_value(value: Any) -> bool:
    """Whether a field holds something ES indexes: a non-null value, or an object with one (`exists` on an object
    field matches documents with any of its sub-fields)."""
    if isinstance(value, Mapping):
        return any(_has_value(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_value(v) for v in value)
    return value is not None


def _is_keyword(field: str) -> bool:
    return field.endswith(KEYWORD_SUFFIX) or field in ("_id", "_index", "_routing")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    return None


def _equals_value(stored: Any, wanted: Any, *, keyword: bool, case_insensitive: bool = False) -> bool:
    """A term against one stored value: numbers and booleans by value, keywords exactly, text by token."""
    if isinstance(stored, bool):
        return _boolean(wanted) is stored
    if isinstance(stored, int | float):
        number = _number(wanted)
        return number is not None and number == float(stored)
    if isinstance(stored, str):
        text = wanted if isinstance(wanted, str) else _term_text(wanted)
        if keyword:
            return stored.lower() == text.lower() if case_insensitive else stored == text
        tokens = analyze(stored)
        return text.lower() in tokens if case_insensitive else text in tokens
    return False


def _term_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---- dates -------------------------------------------------------------------------------------------------------

_UNITS = {
    "y": "years",
    "M": "months",
    "w": "weeks",
    "d": "days",
    "h": "hours",
    "H": "hours",
    "m": "minutes",
    "s": "seconds",
}
_MATH = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def _add(moment: dt.datetime, sign: int, amount: int, unit: str) -> dt.datetime:
    if unit in ("y", "M"):
        months = moment.month - 1 + sign * amount * (12 if unit == "y" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31][month - 1])  # fmt: skip
        return moment.replace(year=year, month=month, day=day)
    return moment + sign * dt.timedelta(**{_UNITS[unit]: amount})


def _round(moment: dt.datetime, unit: str, up: bool) -> dt.datetime:
    if unit == "y":
        start = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "M":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "w":
        start = (moment - dt.timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "d":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit in ("h", "H"):
        start = moment.replace(minute=0, second=0, microsecond=0)
    elif unit == "m":
        start = moment.replace(second=0, microsecond=0)
    else:
        start = moment.replace(microsecond=0)
    if not up:
        return start
    return _add(start, 1, 1, unit) - dt.timedelta(milliseconds=1)


def parse_date_math(text: str, now: dt.datetime, *, round_up: bool = False) -> dt.datetime | None:
    """`now` or an ISO date, then `+1d`, `-2h`, `/d` (ES `JavaDateMathParser`); None when `text` is neither.

    Rounding goes down, or up to the last millisecond of the unit for an upper bound that includes it (ES's
    `roundUp` for `gt` and `lte`).
    """
    if text.startswith("now"):
        anchor, math_text = "now", text[3:]
    elif "||" in text:
        anchor, math_text = text.split("||", 1)
    else:
        anchor, math_text = text, ""
    moment = now if anchor == "now" else _parse_date(anchor)
    if moment is None:
        return None
    position = 0
    while position < len(math_text):
        step = _MATH.match(math_text, position)
        if step is None:
            return None
        if step.group(4):
            moment = _round(moment, step.group(4), round_up)
        else:
            moment = _add(moment, 1 if step.group(1) == "+" else -1, int(step.group(2)), step.group(3))
        position = step.end()
    return moment


def _parse_date(value: Any) -> dt.datetime | None:
    """An ISO-8601 date or date-time (ES `strict_date_optional_time`), or epoch milliseconds; UTC when unzoned."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value[:4].isdigit():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# ---- compiling ---------------------------------------------------------------------------------------------------


def _single(kind: str, body: Any) -> tuple[str, Any]:
    """The one field of a field-level query (`{"term": {"f": ...}}`), with ES's errors."""
    if not isinstance(body, Mapping) or not body:
        raise ParsingError(f"[{kind}] query malformed, no start_object after query name")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) > 1:
        raise ParsingError(f"[{kind}] query doesn't support multiple fields, found [{fields[0]}] and [{fields[1]}]")
    if not fields:
        raise ParsingError(f"[{kind}] query malformed, no field after start_object")
    return fields[0], body[fields[0]]


def _options(kind: str, value: Any, main: str) -> dict[str, Any]:
    """A field query's value or its options object (`{"f": "v"}` is `{"f": {"<main>": "v"}}`)."""
    if isinstance(value, Mapping):
        return dict(value)
    return {main: value}


def _clauses(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _minimum_should_match(spec: Any, optional: int) -> int:
    """ES `Queries#calculateMinShouldMatch` for the common forms: `2`, `-1`, `75%`, `-25%`."""
    if spec is None:
        return 0
    text = str(spec).strip()
    try:
        if text.endswith("%"):
            percent = int(text[:-1])
            result = optional * percent // 100 if percent >= 0 else optional + math.ceil(optional * percent / 100)
        else:
            number = int(text)
            result = number if number >= 0 else optional + number
    except ValueError:
        raise ParsingError(f"Failed to parse minimum_should_match [{spec}]") from None
    return max(0, min(result, optional)) if result > 0 or optional == 0 else 0


def _any_value(field: str, test: Callable[[Any], bool]) -> Predicate:
    if field == "_id":
        return lambda doc: test(doc.id)
    return lambda doc: any(test(v) for v in field_values(doc.source, field))


def _term(kind: str, body: Any) -> Query:
    field, value = _single(kind, body)
    options = _options(kind, value, "value")
    wanted = options.get("value")
    insensitive = bool(options.get("case_insensitive", False))
    keyword = _is_keyword(field)
    return Query(_any_value(field, lambda v: _equals_value(v, wanted, keyword=keyword, case_insensitive=insensitive)))


def _terms(body: Any) -> Query:
    if not isinstance(body, Mapping):
        raise ParsingError("[terms] query malformed, no start_object after query name")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1:
        raise ParsingError(
            "[terms] query does not support multiple fields" if fields else "[terms] query requires a field"
        )
    field = fields[0]
    wanted = body[field]
    if not isinstance(wanted, list):
        raise ParsingError("[terms] query does not support [" + field + "]")
    keyword = _is_keyword(field)
    return Query(_any_value(field, lambda v: any(_equals_value(v, w, keyword=keyword) for w in wanted)))


def _ids(body: Any) -> Query:
    values = body.get("values", []) if isinstance(body, Mapping) else None
    if not isinstance(values, list):
        raise ParsingError("[ids] values doesn't support values of type: " + type(values).__name__.upper())
    wanted = {str(v) for v in values}
    return Query(lambda doc: doc.id in wanted)


def _exists(body: Any) -> Query:
    field = body.get("field") if isinstance(body, Mapping) else None
    if not isinstance(field, str):
        raise ParsingError("[exists] must be provided with a [field]")
    parts = field.split(".")

    def exists(doc: Document) -> bool:
        if field == "_id" or any(_has_value(v) for v in _walk(doc.source, parts)):
            return True
        return field.endswith(KEYWORD_SUFFIX) and bool(field_values(doc.source, field))

    return Query(exists)


def _bound_moment(bound: Any, now: dt.datetime, round_up: bool) -> dt.datetime | None:
    """The date a range bound names (`now` math included), resolved once per query; None when it names none.

    Raises:
        ParsingError: date math past what a date can hold (`now+10000y`): a 400, never a failure on every shard.
    """
    try:
        return parse_date_math(bound, now, round_up=round_up) if isinstance(bound, str) else _parse_date(bound)
    except (ValueError, OverflowError):
        raise ParsingError(f"failed to parse date field [{bound}]") from None


def _comparable(stored: Any, bound: Any, moment: dt.datetime | None) -> tuple[Any, Any] | None:
    """`stored` and `bound` in one ordered domain: numbers, dates (`moment`, the bound as a date), or strings."""
    if isinstance(stored, bool):
        return None
    if isinstance(stored, int | float):
        number = _number(bound)
        if number is not None:
            return float(stored), number
        date = moment if isinstance(bound, str) else None
        return (float(stored), date.timestamp() * 1000) if date is not None else None
    if isinstance(stored, str):
        stored_date = _parse_date(stored)
        if stored_date is not None and moment is not None:
            return stored_date, moment
        return stored, _term_text(bound)
    return None


def _range(body: Any, now: dt.datetime) -> Query:
    field, value = _single("range", body)
    if not isinstance(value, Mapping):
        raise ParsingError(f"[range] query does not support [{field}]")
    bounds: list[tuple[str, Any]] = []
    for key, bound in value.items():
        if bound is None:
            continue
        if key in ("gt", "gte", "lt", "lte"):
            bounds.append((key, bound))
        elif key == "from":
            bounds.append(("gte" if value.get("include_lower", True) else "gt", bound))
        elif key == "to":
            bounds.append(("lte" if value.get("include_upper", True) else "lt", bound))
        elif key not in ("include_lower", "include_upper", "format", "time_zone", "relation", "boost", "_name"):
            raise ParsingError(f"[range] query does not support [{key}]")

    resolved = [(op, bound, _bound_moment(bound, now, round_up=op in ("gt", "lte"))) for op, bound in bounds]

    def within(stored: Any) -> bool:
        for op, bound, moment in resolved:
            pair = _comparable(stored, bound, moment)
            if pair is None:
                return False
            left, right = pair
            try:
                ok = {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
            except TypeError:
                return False
            if not ok:
                return False
        return True

    return Query(_any_value(field, within))


def _match(body: Any, kind: str = "match") -> Query:
    field, value = _single(kind, body)
    options = _options(kind, value, "query")
    query = options.get("query")
    keyword = _is_keyword(field)
    if kind == "match_phrase":
        wanted = analyze(_term_text(query))

        def phrase(stored: Any) -> bool:
            if not isinstance(stored, str):
                return len(wanted) == 1 and _equals_value(stored, wanted[0], keyword=False)
            if keyword:
                return stored == query
            tokens = analyze(stored)
            return any(tokens[i : i + len(wanted)] == wanted for i in range(len(tokens) - len(wanted) + 1))

        return Query(_any_value(field, phrase))
    operator = str(options.get("operator", "or")).lower()
    if operator not in ("or", "and"):
        raise ParsingError(f"[{kind}] query does not support [operator] value [{operator}]")
    tokens = analyze(_term_text(query)) if query is not None else []
    needed = (
        len(tokens)
        if operator == "and"
        else max(1, _minimum_should_match(options.get("minimum_should_match"), len(tokens)))
    )

    distinct = set(tokens)

    def matches(doc: Document) -> bool:
        values = [doc.id] if field == "_id" else field_values(doc.source, field)
        present: set[str] = set()
        for value in values:
            if isinstance(value, str) and not keyword:
                present.update(analyze(value))
            elif _equals_value(value, query, keyword=True):
                return True
        return bool(distinct) and sum(1 for t in distinct if t in present) >= min(needed, len(distinct))

    return Query(matches)


def _pattern(kind: str, body: Any) -> Query:
    field, value = _single(kind, body)
    options = _options(kind, value, "value")
    pattern = _term_text(options.get("value", ""))
    insensitive = bool(options.get("case_insensitive", False))
    keyword = _is_keyword(field)

    def hit(text: str) -> bool:
        if insensitive:
            text, wanted = text.lower(), pattern.lower()
        else:
            wanted = pattern
        return text.startswith(wanted) if kind == "prefix" else fnmatch.fnmatchcase(text, wanted)

    def matches(stored: Any) -> bool:
        if not isinstance(stored, str):
            return hit(_term_text(stored))
        return hit(stored) if keyword else any(hit(t) for t in analyze(stored))

    return Query(_any_value(field, matches))


def _query_string(body: Any) -> Query:
    """The simple forms of a Lucene query string: `*`, `field:value`, bare words; joined by OR."""
    text = body.get("query") if isinstance(body, Mapping) else None
    if not isinstance(text, str):
        raise ParsingError("[query_string] requires query value")
    clauses: list[Predicate] = []
    for part in text.split():
        if part.upper() in ("OR", "AND"):
            continue
        if part in ("*", "*:*"):
            return MATCH_ALL
        field, colon, wanted = part.partition(":")
        if colon and field and wanted:
            if wanted == "*":
                clauses.append(_exists({"field": field}).matches)
            else:
                clauses.append(_match({field: wanted.strip('"')}).matches)
        else:
            clauses.append(_any_field(set(analyze(part))))
    return Query(lambda doc: any(c(doc) for c in clauses)) if clauses else MATCH_ALL


def _any_field(tokens: set[str]) -> Predicate:
    return lambda doc: _any_text_token(doc.source, tokens)


def _any_text_token(source: Any, tokens: set[str]) -> bool:
    for value in _all_leaves(source):
        if isinstance(value, str) and tokens & set(analyze(value)):
            return True
        if not isinstance(value, str) and _term_text(value) in tokens:
            return True
    return False


def _all_leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, Mapping):
        for value in node.values():
            yield from _all_leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_leaves(item)
    elif node is not None:
        yield node


_BOOL_CLAUSES = ("must", "filter", "should", "must_not")


def _bool(body: Any, now: dt.datetime) -> Query:
    if not isinstance(body, Mapping):
        raise ParsingError("[bool] query malformed, no start_object after query name")
    for key in body:
        if key not in (*_BOOL_CLAUSES, "minimum_should_match", "boost", "_name", "adjust_pure_negative"):
            raise ParsingError(f"[bool] query does not support [{key}]")
    must = [_compile(q, now) for q in _clauses(body.get("must", []))]
    filters = [_compile(q, now) for q in _clauses(body.get("filter", []))]
    should = [_compile(q, now) for q in _clauses(body.get("should", []))]
    must_not = [_compile(q, now) for q in _clauses(body.get("must_not", []))]
    default = 1 if should and not must and not filters else 0
    spec = body.get("minimum_should_match")
    needed = default if spec is None else _minimum_should_match(spec, len(should))

    def matches(doc: Document) -> bool:
        if not all(q.matches(doc) for q in must) or not all(q.matches(doc) for q in filters):
            return False
        if any(q.matches(doc) for q in must_not):
            return False
        if needed:
            return sum(1 for q in should if q.matches(doc)) >= needed
        return True

    scoring = bool(must or should) or not (filters or must_not)
    everything = not (must or filters or must_not or needed) or (
        all(q.match_all for q in must + filters) and not must_not and not needed
    )
    return Query(matches, scoring=scoring, match_all=everything and scoring)


def _compile(query: Any, now: dt.datetime) -> Query:
    if not isinstance(query, Mapping):
        raise ParsingError("query malformed, must start with start_object")
    if not query:
        return MATCH_ALL  # ES 8 answers an empty query object with every document
    kinds = list(query)
    if len(kinds) > 1:
        raise ParsingError(f"[{kinds[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
    kind, body = kinds[0], query[kinds[0]]
    if kind == "match_all":
        return MATCH_ALL
    if kind == "match_none":
        return Query(lambda doc: False)
    if kind == "ids":
        return _ids(body)
    if kind in ("term",):
        return _term(kind, body)
    if kind == "terms":
        return _terms(body)
    if kind == "range":
        return _range(body, now)
    if kind == "exists":
        return _exists(body)
    if kind in ("match", "match_phrase"):
        return _match(body, kind)
    if kind in ("prefix", "wildcard"):
        return _pattern(kind, body)
    if kind == "bool":
        return _bool(body, now)
    if kind == "constant_score":
        inner = body.get("filter") if isinstance(body, Mapping) else None
        if inner is None:
            raise ParsingError("[constant_score] requires a 'filter' element")
        return Query(_compile(inner, now).matches)
    if kind in ("query_string", "simple_query_string"):
        return _query_string(body)
    return MATCH_ALL  # accepted, documented as matching everything


def compile_query(query: Mapping[str, Any] | None, now: dt.datetime | None = None) -> Query:
    """The compiled query; None (no `query`) matches every document.

    Raises:
        ParsingError: a malformed query of a supported type (ES's `parsing_exception` text where ES has one).
    """
    if query is None:
        return MATCH_ALL
    return _compile(query, now if now is not None else dt.datetime.now(dt.UTC))
