"""Response bodies as ES writes them: media-type negotiation and `filter_path`; the JSON and YAML text itself
comes from `rest.xcontent`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from node.data.json_body import MAX_NESTING_DEPTH
from node.errors import ElasticsearchError, IllegalArgumentError, MediaTypeHeaderError, NumberFormatError
from rest.xcontent import to_json, to_yaml

__all__ = ["JSON", "TEXT", "OutputFormat", "apply_filter_path", "negotiate", "negotiate_table", "render"]


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """How a response body is written, and the `Content-Type` sent with it."""

    kind: Literal["json", "yaml", "text"]
    content_type: str


JSON = OutputFormat("json", "application/json")
TEXT = OutputFormat("text", "text/plain; charset=UTF-8")

_VND = "application/vnd.elasticsearch+"
# ES XContentType's media types and `format` values. SMILE and CBOR have no encoder here and are answered in JSON.
_MEDIA_TYPES: dict[str, tuple[Literal["json", "yaml"], str]] = {
    "application/json": ("json", "application/json"),
    "application/x-ndjson": ("json", "application/json"),
    "application/*": ("json", "application/json"),
    "application/smile": ("json", "application/json"),
    "application/cbor": ("json", "application/json"),
    "application/yaml": ("yaml", "application/yaml"),
    _VND + "json": ("json", _VND + "json"),
    _VND + "x-ndjson": ("json", _VND + "json"),
    _VND + "smile": ("json", _VND + "json"),
    _VND + "cbor": ("json", _VND + "json"),
    _VND + "yaml": ("yaml", _VND + "yaml"),
}
_FORMATS = {  # `?format=` values: each type's short name, `vnd_` ones for the vendor types
    **{name: _MEDIA_TYPES["application/" + name] for name in ("json", "smile", "cbor", "yaml")},
    **{"vnd_" + name: _MEDIA_TYPES[_VND + name] for name in ("json", "smile", "cbor", "yaml")},
}
_CURRENT_MAJOR, _MINIMUM_MAJOR = 9, 8  # ES 9 answers compatible-with=9 and =8 (RestApiVersion)
_TCHAR = re.compile(r"[a-zA-z0-9!#$%&'*+\-.\^_`|~]+")  # ES's pattern, `A-z` typo included


@dataclass(frozen=True, slots=True)
class _MediaType:
    """ES `ParsedMediaType`: lower-cased type and parameters, and the header text as sent."""

    raw: str
    type_subtype: str
    parameters: tuple[tuple[str, str], ...]

    def parameter(self, name: str) -> str | None:
        return next((value for key, value in self.parameters if key == name), None)


def _java_split(text: str, separator: str) -> list[str]:
    parts = re.split(separator, text)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _header_error(headers: str, cause: ElasticsearchError) -> MediaTypeHeaderError:
    error = MediaTypeHeaderError(f"Invalid media-type value on headers [{headers}]", cause=cause)
    # ES's MediaTypeHeaderException is a plain RuntimeException, so it is its own root cause.
    error.es_level = False  # type: ignore[misc]
    return error


def _parse_media_type(raw: str | None, header: str) -> _MediaType | None:
    """Mirrors ES `RestRequest#parseHeaderWithMediaType` and `ParsedMediaType#parseMediaType`.

    A media range (any `,`) and `*/*` count as absent: that is how the cat client's `text/plain,application/...`
    ends up with the text table.
    """
    if raw is None:
        return None
    if not raw.strip():
        raise _header_error(header, IllegalArgumentError(f"Header [{header}] cannot be empty."))
    if "," in raw or raw == "*/*":
        return None
    elements = _java_split(raw.lower(), r"[ \t\n\x0b\f\r]*;")
    type_subtype = _java_split(elements[0], "/") if elements else []
    if len(type_subtype) != 2 or not all(_TCHAR.fullmatch(part.strip()) for part in type_subtype):
        raise _header_error(header, IllegalArgumentError(f"invalid media-type [{raw}]"))
    parameters = []
    for element in elements[1:]:
        parameter = element.strip()
        if not parameter:
            continue
        key_value = _java_split(parameter, "=")  # no space is allowed around '='
        if len(key_value) != 2 or not key_value[0] or key_value[0][-1].isspace() or key_value[1][0].isspace():
            raise _header_error(header, IllegalArgumentError(f"invalid parameters for header [{raw}]"))
        parameters.append((key_value[0].strip(), key_value[1].strip()))
    return _MediaType(raw, "/".join(part.strip() for part in type_subtype), tuple(parameters))


def _compatible_with(media: _MediaType | None) -> int | None:
    text = media.parameter("compatible-with") if media is not None else None
    if text is None:
        return None
    if not re.fullmatch(r"[+-]?[0-9]+", text) or not -128 <= int(text) <= 127:  # Java Byte#parseByte
        raise _header_error("Accept, Content-Type", NumberFormatError(f'For input string: "{text}"'))
    return int(text)


def _check_compatible_versions(accept: _MediaType | None, content_type: _MediaType | None, has_body: bool) -> None:
    """Mirrors ES `RestCompatibleVersionHelper#getCompatibleVersion` for an ES 9 node."""
    accept_version, content_version = _compatible_with(accept), _compatible_with(content_type)
    effective_accept = _CURRENT_MAJOR if accept_version is None else accept_version
    effective_content = _CURRENT_MAJOR if content_version is None else content_version
    a = accept.raw if accept is not None else "null"
    c = content_type.raw if content_type is not None else "null"
    both = "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
    message = None
    if not _MINIMUM_MAJOR <= effective_accept <= _CURRENT_MAJOR:
        message = f"Accept version must be either version 9 or 8, but found {effective_accept}. Accept={a}"
    elif has_body and not _MINIMUM_MAJOR <= effective_content <= _CURRENT_MAJOR:
        message = f"Content-Type version must be either version 9 or 8, but found {effective_content}. Content-Type={c}"
    elif has_body and effective_content != effective_accept:
        message = f"{both}compatible version and the compatible versions must match. Accept={a}, Content-Type={c}"
    elif has_body and (accept_version is None) != (content_version is None):
        message = f"{both}compatible version. Accept={a}, Content-Type={c}"
    if message is not None:
        raise _header_error("Accept, Content-Type", ElasticsearchError(message, status=400, es_type="status_exception"))


def _output_format(kind_and_base: tuple[Literal["json", "yaml"], str], accept: _MediaType | None) -> OutputFormat:
    # ES echoes the Accept header's parameters: `application/vnd.elasticsearch+json;compatible-with=9`.
    parameters = "".join(f";{key}={value}" for key, value in accept.parameters) if accept is not None else ""
    return OutputFormat(kind_and_base[0], kind_and_base[1] + parameters)


def _from_media_type(media: _MediaType | None) -> tuple[Literal["json", "yaml"], str] | None:
    """ES `ParsedMediaType#toMediaType`: known types only, with a numeric `compatible-with` on vendor types."""
    if media is None or media.type_subtype not in _MEDIA_TYPES:
        return None
    version = media.parameter("compatible-with")
    if media.type_subtype.startswith(_VND) and version is not None and not version.isdigit():
        return None
    return _MEDIA_TYPES[media.type_subtype]


def negotiate(accept: str | None, content_type: str | None, format_param: str | None, has_body: bool) -> OutputFormat:
    """The body format of a JSON endpoint's response (ES `RestRequest` plus `AbstractRestChannel#newBuilder`).

    `?format=` wins, then `Accept`, then the request's own `Content-Type`, then JSON. Both headers are validated
    for every request, as ES does when it builds the request, and ES 9 serves REST compatibility 8 and 9.

    Raises:
        MediaTypeHeaderError: a malformed header, an unsupported `compatible-with`, or, for a request with a
            body, versions that differ between `Accept` and `Content-Type` (400).
    """
    parsed_accept = _parse_media_type(accept, "Accept")
    parsed_content_type = _parse_media_type(content_type, "Content-Type")
    _check_compatible_versions(parsed_accept, parsed_content_type, has_body)
    chosen = _FORMATS.get(format_param.lower()) if format_param and format_param.strip() else None
    if chosen is None:
        chosen = _from_media_type(parsed_accept) or _from_media_type(parsed_content_type)
    return _output_format(chosen or _MEDIA_TYPES["application/json"], parsed_accept)


def negotiate_table(accept: str | None, format_param: str | None) -> OutputFormat:
    """The format of a `_cat` response (ES `RestTable#getResponseContentType`): text unless asked otherwise.

    A present `format` decides alone, so `?format=txt` is text whatever `Accept` says.
    """
    parsed_accept = _parse_media_type(accept, "Accept")
    chosen = _FORMATS.get(format_param.lower()) if format_param is not None else _from_media_type(parsed_accept)
    return TEXT if chosen is None else _output_format(chosen, parsed_accept)


# ---------------------------------------------------------------------------------------------------------------
# filter_path: mirrors ES FilterPath (a trie of dotted patterns) driving Jackson's FilteringGeneratorDelegate.


# Responses nest at most a document's depth (Jackson's limit) plus a few levels of their own.
_MAX_FILTER_DEPTH = MAX_NESTING_DEPTH + 100


@dataclass(slots=True)
class _FilterPath:
    final: bool
    terms: dict[str, _FilterPath] = field(default_factory=dict)
    wildcards: list[tuple[re.Pattern[str], _FilterPath]] = field(default_factory=list)
    double_wildcard: bool = False

    def matches(self, name: str, next_filters: list[_FilterPath]) -> bool:
        """ES `FilterPath#matches`: true on a complete match, else collects the filters for the next level."""
        term = self.terms.get(name)
        if term is not None:
            if term.final:
                return True
            next_filters.append(term)
        for pattern, child in self.wildcards:
            if pattern.fullmatch(name):
                if child.final:
                    return True
                next_filters.append(child)
        if self.double_wildcard:
            next_filters.append(self)  # `**` stays active at every deeper level
        return False


def _insert(expression: str, children: dict[str, _FilterPath]) -> None:
    """ES `FilterPathBuilder#insertNode`: split at the first unescaped dot; `\\.` is a dot inside a name.

    ES recurses once per segment; this walks the segments in a loop, so a `filter_path` of thousands of segments
    costs no stack. Segments deeper than any response can be (`_MAX_FILTER_DEPTH`) are not inserted: they could
    never match, so the answer is the same and the work is bounded.
    """
    start = 0  # the segment being inserted starts here (ES takes a substring per level)
    for _ in range(_MAX_FILTER_DEPTH):
        split_at, escaped = expression.find(".", start), False
        while split_at > start and expression[split_at - 1] == "\\":  # `\\.` is skipped, as ES's scan skips it
            split_at, escaped = expression.find(".", split_at + 1), True
        head = expression[start:split_at] if split_at > start else expression[start:]
        name = re.sub(r"\\.", ".", head) if escaped else head  # ES's replaceAll("\\\\.", "."), quirks and all
        if split_at <= start:
            children[name] = _FilterPath(final=True)
            return
        child = children.get(name)
        if child is None:
            child = children[name] = _FilterPath(final=False)
        elif child.final:
            return
        start, children = split_at + 1, child.terms


def _compile(expressions: list[str]) -> _FilterPath:
    """ES `FilterPath#compile`: one trie for all expressions (built with every child under `terms`)."""
    root = _FilterPath(final=False)
    for expression in expressions:
        if expression.strip():
            _insert(expression.strip(), root.terms)
    return _build(root)


def _build(root: _FilterPath) -> _FilterPath:
    """ES `FilterPathBuilder#buildPath`: children whose name holds a `*` become glob children.

    Built bottom-up from an explicit stack rather than by recursion, for the same reason as `_insert`.
    """
    built: dict[int, _FilterPath] = {}
    stack: list[tuple[_FilterPath, str, bool]] = [(root, "", False)]
    while stack:
        node, pattern, children_done = stack.pop()
        if not children_done:
            stack.append((node, pattern, True))
            stack.extend((child, name, False) for name, child in node.terms.items())
            continue
        result = _FilterPath(final=node.final, double_wildcard=pattern == "**")
        for name, child in node.terms.items():
            compiled = built.pop(id(child))
            if "*" in name:
                glob = re.compile(".*".join(map(re.escape, name.split("*"))), re.DOTALL)
                result.wildcards.append((glob, compiled))
            else:
                result.terms[name] = compiled
        built[id(node)] = result
    return built[id(root)]


_DROPPED = object()


def _evaluate(name: str, filters: list[_FilterPath]) -> bool | list[_FilterPath]:
    next_filters: list[_FilterPath] = []
    for path in filters:
        if path.matches(name, next_filters):
            return True
    return next_filters


def _filter(value: object, filters: list[_FilterPath], inclusive: bool) -> object:
    """One `FilterPathBasedFilter` pass over a value reached through a partial match.

    Arrays are transparent. Including keeps complete matches whole and drops what ends up empty; excluding
    drops complete matches and keeps containers that were already empty (ES #109668).
    """
    if isinstance(value, Mapping):
        kept: dict[object, object] = {}
        for key, item in value.items():
            verdict = _evaluate(str(key), filters)
            if verdict is True:
                if inclusive:
                    kept[key] = item
            elif not verdict:
                if not inclusive:
                    kept[key] = item
            elif (child := _filter(item, verdict, inclusive)) is not _DROPPED:
                kept[key] = child
        return kept if kept or (not inclusive and not value) else _DROPPED
    if isinstance(value, (list, tuple)):
        items = [child for item in value if (child := _filter(item, filters, inclusive)) is not _DROPPED]
        return items if items or (not inclusive and not value) else _DROPPED
    return _DROPPED if inclusive else value  # scalars count only under a complete match


def apply_filter_path(obj: object, expressions: Iterable[str]) -> object | None:
    """ES response filtering (`filter_path`): inclusions first, then `-` exclusions.

    `*` matches within one name, `**` any number of levels, `\\.` a dot inside a name. The root object always
    survives, possibly as `{}`; a root array that loses everything gives None: ES then writes no body at all.
    """
    tokens = [e.strip() for e in expressions if e.strip()]
    result: object = obj
    for inclusive, group in (
        (True, [t for t in tokens if t[0] != "-"]),
        (False, [t[1:] for t in tokens if t[0] == "-"]),
    ):
        if group:
            result = _filter(result, [_compile(group)], inclusive)
            if result is _DROPPED:
                return {} if isinstance(obj, Mapping) else None
    return result


def render(obj: object, fmt: OutputFormat, *, pretty: bool = False, filter_path: list[str] | None = None) -> bytes:
    """The body bytes of a JSON or YAML response, after `filter_path`.

    `pretty` indents JSON the way ES does (and adds the trailing newline); YAML is always block style.
    """
    if fmt.kind == "text":
        raise ValueError("text bodies are tables: render them with rest.cat.render_cat")
    if filter_path:
        filtered = apply_filter_path(obj, filter_path)
        if filtered is None:
            return b"\n" if pretty and fmt.kind == "json" else b""
        obj = filtered
    text = to_yaml(obj) if fmt.kind == "yaml" else to_json(obj, pretty=pretty)
    # A lone surrogate cannot be UTF-8: it is written `?`, as Java's UTF-8 encoder writes one.
    return text.encode("utf-8", errors="replace")
