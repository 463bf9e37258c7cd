"""Media types, `filter_path`, and JSON/YAML bodies byte for byte as ES writes them (clients-and-tools §1.2)."""

from __future__ import annotations

from typing import Any

import pytest

from node.errors import MediaTypeHeaderError
from rest.output import JSON, TEXT, OutputFormat, apply_filter_path, negotiate, negotiate_table, render

VND9 = "application/vnd.elasticsearch+json; compatible-with=9"
VND8 = "application/vnd.elasticsearch+json; compatible-with=8"
CAT_CLIENT_ACCEPT = "text/plain,application/vnd.elasticsearch+json; compatible-with=9"
YAML = OutputFormat("yaml", "application/yaml")


def header_failure(accept: str | None, content_type: str | None = None, has_body: bool = False) -> MediaTypeHeaderError:
    with pytest.raises(MediaTypeHeaderError) as failure:
        negotiate(accept, content_type, None, has_body)
    return failure.value


# --- negotiation for JSON endpoints ------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/html"])
def test_json_is_the_default(accept: str | None) -> None:
    assert negotiate(accept, None, None, False) == JSON


def test_format_yaml_gives_yaml() -> None:
    assert negotiate(None, None, "yaml", False) == YAML


def test_format_parameter_wins_over_accept() -> None:
    assert negotiate("application/yaml", None, "json", False) == JSON


def test_unknown_format_falls_back_to_accept() -> None:
    assert negotiate("application/yaml", None, "txt", False) == YAML


def test_yaml_accept_gives_yaml() -> None:
    assert negotiate("application/yaml", None, None, False) == YAML


def test_binary_formats_are_answered_in_json() -> None:
    assert negotiate(None, None, "cbor", False) == JSON


def test_request_content_type_decides_when_nothing_else_does() -> None:
    assert negotiate(None, "application/yaml", None, True) == YAML


def test_compatible_accept_is_echoed_without_the_space() -> None:
    assert negotiate(VND9, None, None, False) == OutputFormat(
        "json", "application/vnd.elasticsearch+json;compatible-with=9"
    )


def test_compatibility_with_8_is_served() -> None:
    assert negotiate(VND8, None, None, False).content_type == "application/vnd.elasticsearch+json;compatible-with=8"


def test_compatible_accept_is_case_insensitive() -> None:
    fmt = negotiate("Application/VND.Elasticsearch+JSON;Compatible-With=8", None, None, False)
    assert fmt.content_type == "application/vnd.elasticsearch+json;compatible-with=8"


def test_format_json_keeps_the_accept_parameters() -> None:
    assert negotiate(VND9, None, "json", False).content_type == "application/json;compatible-with=9"


def test_media_range_accept_is_ignored() -> None:
    assert negotiate(CAT_CLIENT_ACCEPT, None, None, False) == JSON


def test_media_range_accept_is_not_version_checked() -> None:
    assert negotiate("text/plain,application/vnd.elasticsearch+json; compatible-with=7", None, None, False) == JSON


def test_unsupported_accept_version_is_rejected() -> None:
    error = header_failure("application/vnd.elasticsearch+json; compatible-with=7")
    assert (error.status, error.reason) == (400, "Invalid media-type value on headers [Accept, Content-Type]")
    assert error.cause is not None
    assert error.cause.to_dict() == {
        "type": "status_exception",
        "reason": "Accept version must be either version 9 or 8, but found 7. "
        "Accept=application/vnd.elasticsearch+json; compatible-with=7",
    }


def test_media_type_error_is_its_own_root_cause() -> None:
    body = header_failure("application/vnd.elasticsearch+json;compatible-with=10").to_response_body()
    assert body == {
        "error": {
            "root_cause": [
                {
                    "type": "media_type_header_exception",
                    "reason": "Invalid media-type value on headers [Accept, Content-Type]",
                }
            ],
            "type": "media_type_header_exception",
            "reason": "Invalid media-type value on headers [Accept, Content-Type]",
            "caused_by": {
                "type": "status_exception",
                "reason": "Accept version must be either version 9 or 8, but found 10. "
                "Accept=application/vnd.elasticsearch+json;compatible-with=10",
            },
        },
        "status": 400,
    }


def test_spaces_around_the_parameter_equals_sign_are_rejected() -> None:
    raw = "application/vnd.elasticsearch+json; compatible-with = 9"
    error = header_failure(raw)
    assert error.reason == "Invalid media-type value on headers [Accept]"
    assert error.cause is not None
    assert error.cause.to_dict() == {
        "type": "illegal_argument_exception",
        "reason": f"invalid parameters for header [{raw}]",
    }


def test_malformed_media_type_is_rejected() -> None:
    error = header_failure("json")
    assert error.cause is not None
    assert error.cause.reason == "invalid media-type [json]"


def test_empty_accept_is_rejected() -> None:
    error = header_failure("")
    assert error.cause is not None
    assert error.cause.reason == "Header [Accept] cannot be empty."


def test_malformed_content_type_is_rejected_even_without_a_body() -> None:
    assert header_failure(None, "application").reason == "Invalid media-type value on headers [Content-Type]"


def test_versioned_content_type_needs_a_versioned_accept() -> None:
    error = header_failure("application/json", VND9, has_body=True)
    assert error.cause is not None
    assert error.cause.reason == (
        "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
        f"compatible version. Accept=application/json, Content-Type={VND9}"
    )


def test_versioned_content_type_without_accept_reports_null() -> None:
    error = header_failure(None, VND9, has_body=True)
    assert error.cause is not None
    assert error.cause.reason.endswith(f"compatible version. Accept=null, Content-Type={VND9}")


def test_accept_and_content_type_versions_must_match() -> None:
    error = header_failure(VND8, VND9, has_body=True)
    assert error.cause is not None
    assert error.cause.reason == (
        "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
        f"compatible version and the compatible versions must match. Accept={VND8}, Content-Type={VND9}"
    )


def test_versioned_content_type_without_a_body_is_ignored() -> None:
    assert negotiate("application/json", "application/vnd.elasticsearch+json; compatible-with=7", None, False) == JSON


def test_matching_versions_with_a_body_are_accepted() -> None:
    assert negotiate(VND8, VND8, None, True).content_type == "application/vnd.elasticsearch+json;compatible-with=8"


# --- negotiation for cat tables ----------------------------------------------------------------------------------


def test_table_is_text_by_default() -> None:
    assert negotiate_table(None, None) == TEXT
    assert TEXT.content_type == "text/plain; charset=UTF-8"


def test_table_cat_client_accept_gives_text() -> None:
    assert negotiate_table(CAT_CLIENT_ACCEPT, None) == TEXT


@pytest.mark.parametrize(("fmt", "expected"), [("json", JSON), ("yaml", YAML), ("JSON", JSON)])
def test_table_format_parameter_selects_structured_output(fmt: str, expected: OutputFormat) -> None:
    assert negotiate_table(None, fmt) == expected


def test_table_json_accept_gives_json() -> None:
    assert negotiate_table("application/json", None) == JSON


def test_table_compatible_accept_gives_vendor_json() -> None:
    assert negotiate_table(VND9, None).content_type == "application/vnd.elasticsearch+json;compatible-with=9"


def test_table_unknown_format_is_text_whatever_accept_says() -> None:
    assert negotiate_table("application/json", "txt") == TEXT


# --- JSON ---------------------------------------------------------------------------------------------------------


def test_compact_json_has_no_whitespace() -> None:
    body = {"nodes": {"n1": {"tasks": {}}}, "ok": True, "none": None, "ids": [1, 2]}
    assert render(body, JSON) == b'{"nodes":{"n1":{"tasks":{}}},"ok":true,"none":null,"ids":[1,2]}'


def test_pretty_json_is_jackson_style() -> None:
    body = {"nodes": {"n1": {"roles": ["data", "master"], "tasks": {}, "attributes": []}}, "cancellable": False}
    assert render(body, JSON, pretty=True) == (
        b"{\n"
        b'  "nodes" : {\n'
        b'    "n1" : {\n'
        b'      "roles" : [\n'
        b'        "data",\n'
        b'        "master"\n'
        b"      ],\n"
        b'      "tasks" : { },\n'
        b'      "attributes" : [ ]\n'
        b"    }\n"
        b"  },\n"
        b'  "cancellable" : false\n'
        b"}\n"
    )


def test_pretty_empty_root_object() -> None:
    assert render({}, JSON, pretty=True) == b"{ }\n"


def test_doubles_print_like_java() -> None:
    body = {"requests_per_second": -1.0, "slow": 1e-08, "fast": 1e7, "half": 0.5}
    assert render(body, JSON) == b'{"requests_per_second":-1.0,"slow":1.0E-8,"fast":1.0E7,"half":0.5}'


def test_text_that_looks_like_a_double_is_left_alone() -> None:
    body = {"description": "rate 1e-08 over 12345678.9 NaN", "rate": 0.5}
    assert render(body, JSON) == b'{"description":"rate 1e-08 over 12345678.9 NaN","rate":0.5}'


def test_non_finite_doubles_are_quoted_like_jackson() -> None:
    assert render([float("nan"), float("inf")], JSON) == b'["NaN","Infinity"]'


def test_non_ascii_is_written_as_utf8() -> None:
    assert render({"description": "réindex ✓"}, JSON) == '{"description":"réindex ✓"}'.encode()


def test_control_characters_are_escaped_with_upper_case_hex() -> None:
    assert render(['\x1f\n\t"\\'], JSON) == b'["\\u001F\\n\\t\\"\\\\"]'


def test_a_literal_backslash_u_is_not_mistaken_for_an_escape() -> None:
    assert render(["\\u001f"], JSON) == b'["\\\\u001f"]'


def test_key_order_is_kept() -> None:
    assert render({"z": 1, "a": 2}, JSON) == b'{"z":1,"a":2}'


# --- YAML ---------------------------------------------------------------------------------------------------------


def yaml(obj: Any) -> str:
    return render(obj, YAML).decode()


def test_yaml_document_quotes_strings_and_leaves_scalars_plain() -> None:
    body = {"node": "Hr8x", "id": 4711, "cancellable": True, "parent": None, "rps": -1.0, "slow": 1e-8}
    assert yaml(body) == ('---\nnode: "Hr8x"\nid: 4711\ncancellable: true\nparent: null\nrps: -1.0\nslow: 1.0E-8\n')


def test_yaml_nests_maps_by_two_spaces_and_lists_at_the_parent_indent() -> None:
    body = {"nodes": {"n1": {"roles": ["data", "master"], "tasks": [{"id": 1, "action": "a"}]}}}
    assert yaml(body) == (
        '---\nnodes:\n  n1:\n    roles:\n    - "data"\n    - "master"\n    tasks:\n    - id: 1\n      action: "a"\n'
    )


def test_yaml_writes_empty_containers_in_flow_style() -> None:
    assert (
        yaml({"tasks": {}, "failures": [], "nested": [{}, []]}) == "---\ntasks: {}\nfailures: []\nnested:\n- {}\n- []\n"
    )


def test_yaml_empty_root() -> None:
    assert yaml({}) == "--- {}\n"


def test_yaml_list_of_lists() -> None:
    assert yaml([[1, 2], ["a"]]) == '---\n- - 1\n  - 2\n- - "a"\n'


def test_yaml_root_list_of_rows() -> None:
    assert yaml([{"action": "x", "node": None}]) == '---\n- action: "x"\n  node: null\n'


def test_yaml_escapes_like_snakeyaml() -> None:
    assert yaml(['tab\t "q" back\\slash é nb\xa0sp \x01\x7f']) == (
        '---\n- "tab\\t \\"q\\" back\\\\slash é nb\\_sp \\x01\\x7f"\n'
    )


@pytest.mark.parametrize(
    ("key", "written"),
    [
        ("true", '"true"'),
        ("null", '"null"'),
        ("0abc", '"0abc"'),
        ("-a1b2", '"-a1b2"'),
        ("~x", '"~x"'),
        ("a: b", "'a: b'"),
        ("#x", "'#x'"),
        ("it's ok", "it's ok"),
        ("Hr8xk7dCQoqBx3Vf2nW1aA:4711", "Hr8xk7dCQoqBx3Vf2nW1aA:4711"),
        ("X-Opaque-Id", "X-Opaque-Id"),
        ("trace.id", "trace.id"),
    ],
)
def test_yaml_keys_are_quoted_only_when_needed(key: str, written: str) -> None:
    assert yaml({key: 1}) == f"---\n{written}: 1\n"


def test_yaml_empty_key_is_a_complex_key() -> None:
    assert yaml({"": 1}) == '---\n? ""\n: 1\n'


def test_yaml_single_quoted_key_doubles_its_quotes() -> None:
    assert yaml({"'x": 1}) == "---\n'''x': 1\n"


def test_yaml_folds_long_strings_at_eighty_columns() -> None:
    description = (
        "reindex from [source] to [dest] with a very long description that keeps going past eighty columns for sure"
    )
    assert yaml({"task": {"description": description}}) == (
        "---\n"
        "task:\n"
        '  description: "reindex from [source] to [dest] with a very long description that\\\n'
        '    \\ keeps going past eighty columns for sure"\n'
    )


def test_yaml_does_not_fold_a_string_without_spaces() -> None:
    word = "a" * 100
    assert yaml({"k": word}) == f'---\nk: "{word}"\n'


def test_yaml_key_of_128_characters_is_a_complex_key() -> None:
    key = "k" * 128
    assert yaml({key: 1}) == f"---\n? {key}\n: 1\n"


# --- filter_path --------------------------------------------------------------------------------------------------

# The document of ES FilterPathGeneratorFilteringTests, whose cases follow.
SAMPLE: dict[str, Any] = {
    "a": 0,
    "b": True,
    "c": "c_value",
    "d": [0, 1, 2],
    "e": [{"f1": "f1_value", "f2": "f2_value"}, {"g1": "g1_value", "g2": "g2_value"}],
    "h": {"i": {"j": {"k": {"l": "l_value"}}}},
}
H = {"h": SAMPLE["h"]}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a", {"a": 0}),
        ("b", {"b": True}),
        ("d", {"d": [0, 1, 2]}),
        ("e", {"e": SAMPLE["e"]}),
        ("z", {}),
        ("e.f1", {"e": [{"f1": "f1_value"}]}),
        ("e.f*", {"e": [{"f1": "f1_value", "f2": "f2_value"}]}),
        ("e.*2", {"e": [{"f2": "f2_value"}, {"g2": "g2_value"}]}),
        ("h.i", H),
        ("h.i.j.k.l", H),
        ("h.*", H),
        ("*.i", H),
        ("h.*.j.*.l", H),
        ("**.l", H),
        ("**.*2", {"e": [{"f2": "f2_value"}, {"g2": "g2_value"}]}),
        ("h.i.j.k.l,h.i.j.k.l.m", H),
        ("a,b,c,d,e.f1,e.f2,e.g1,e.g2,h.i.j.k.l", SAMPLE),
        ("d.x", {}),
    ],
)
def test_filter_path_inclusion(expression: str, expected: dict[str, Any]) -> None:
    assert apply_filter_path(SAMPLE, expression.split(",")) == expected


def without(*keys: str) -> dict[str, Any]:
    return {k: v for k, v in SAMPLE.items() if k not in keys}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("-a", without("a")),
        ("-e", without("e")),
        ("-z", SAMPLE),
        ("-e.f1", {**SAMPLE, "e": [{"f2": "f2_value"}, {"g1": "g1_value", "g2": "g2_value"}]}),
        ("-e.f*", {**SAMPLE, "e": [{"g1": "g1_value", "g2": "g2_value"}]}),
        ("-e.*2", {**SAMPLE, "e": [{"f1": "f1_value"}, {"g1": "g1_value"}]}),
        ("-h.i", without("h")),
        ("-h.i.j.k.l", without("h")),
        ("-**.l", without("h")),
        ("-**.*2", {**SAMPLE, "e": [{"f1": "f1_value"}, {"g1": "g1_value"}]}),
        ("-a,-b,-c,-d,-e.f1,-e.f2,-e.g1,-e.g2,-h.i.j.k.l", {}),
    ],
)
def test_filter_path_exclusion(expression: str, expected: dict[str, Any]) -> None:
    assert apply_filter_path(SAMPLE, expression.split(",")) == expected


def test_filter_path_escaped_dot_matches_a_dotted_name() -> None:
    doc = {"a": 0, "b.c": "value", "b": {"c": "c_value"}}
    assert apply_filter_path(doc, ["b.c"]) == {"b": {"c": "c_value"}}
    assert apply_filter_path(doc, ["b\\.c"]) == {"b.c": "value"}


def test_filter_path_exclusion_keeps_containers_that_were_empty() -> None:
    doc = {"nodes": {"n1": {"tasks": {}, "roles": []}, "n2": {"tasks": {"t": {"id": 1}}}}}
    assert apply_filter_path(doc, ["-nodes.*.tasks.*.id"]) == {"nodes": {"n1": {"tasks": {}, "roles": []}}}


def test_filter_path_on_the_reference_example() -> None:
    doc = {
        "nodes": {
            "n1": {"name": "node-1", "tasks": {"n1:1": {"action": "a1", "id": 1}, "n1:2": {"action": "a2", "id": 2}}},
            "n2": {"name": "node-2", "tasks": {}},
        }
    }
    expected = {"nodes": {"n1": {"tasks": {"n1:1": {"action": "a1"}, "n1:2": {"action": "a2"}}}}}
    assert apply_filter_path(doc, ["nodes.*.tasks.*.action"]) == expected


def test_filter_path_applies_exclusions_after_inclusions() -> None:
    doc = {"nodes": {"n1": {"name": "node-1", "ip": "127.0.0.1", "tasks": {}}}}
    assert apply_filter_path(doc, ["nodes.*", "-nodes.*.ip"]) == {"nodes": {"n1": {"name": "node-1", "tasks": {}}}}


def test_filter_path_ignores_blank_expressions() -> None:
    assert apply_filter_path(SAMPLE, ["", " "]) == SAMPLE


def test_filter_path_trims_expressions() -> None:
    assert apply_filter_path(SAMPLE, [" a ", "b"]) == {"a": 0, "b": True}


def test_render_applies_filter_path() -> None:
    assert render({"a": 1, "b": {"c": 2}}, JSON, filter_path=["b.c"]) == b'{"b":{"c":2}}'


def test_render_writes_an_empty_root_object_when_nothing_matches() -> None:
    assert render({"a": 1}, JSON, pretty=True, filter_path=["z"]) == b"{ }\n"


def test_render_writes_no_body_for_a_root_array_that_loses_everything() -> None:
    assert render([{"action": "a"}], JSON, filter_path=["node"]) == b""


def test_render_refuses_text() -> None:
    with pytest.raises(ValueError):
        render({}, TEXT)


def test_a_filter_path_thousands_of_segments_deep_filters_like_a_short_one() -> None:
    deep = ".".join(["h", "i", "j", "k", "l"] + ["x"] * 30_000)
    assert apply_filter_path(SAMPLE, [deep]) == {}
    assert apply_filter_path(SAMPLE, ["-" + deep]) == SAMPLE
    assert apply_filter_path(SAMPLE, [".".join(["a"] * 2000), "a"]) == {"a": 0}


def test_render_writes_a_lone_surrogate_as_a_question_mark() -> None:
    assert render({"a": "x\udcffy"}, JSON) == b'{"a":"x?y"}'
