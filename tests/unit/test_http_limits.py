"""The HTTP limits of a node: the in-flight requests breaker, and the settings that configure the limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from node.cli import main as node_main
from node.config import NodeConfig, parse_byte_size
from node.errors import CircuitBreakingError
from node.human import format_byte_size
from rest.http_limits import HttpLimits, InFlightRequestsBreaker


def _trip(breaker: InFlightRequestsBreaker, size: int) -> CircuitBreakingError:
    with pytest.raises(CircuitBreakingError) as caught:
        breaker.add_estimate_bytes_and_maybe_break(size, "<http_request>")
    return caught.value


def test_the_breaker_counts_bytes_twice_and_refuses_past_its_limit_with_es_text() -> None:
    breaker = InFlightRequestsBreaker(100 << 20)
    breaker.add_estimate_bytes_and_maybe_break(30 << 20, "<http_request>")
    error = _trip(breaker, 30 << 20)
    failure = {
        "type": "circuit_breaking_exception",
        "reason": "[in_flight_requests] Data too large, data for [<http_request>] would be [125829120/120mb], "
        "which is larger than the limit of [104857600/100mb]",
        "bytes_wanted": 125829120,
        "bytes_limit": 104857600,
        "durability": "TRANSIENT",
    }
    assert error.to_response_body() == {"error": {"root_cause": [failure], **failure}, "status": 429}
    assert breaker.used == 30 << 20  # a refused reservation reserves nothing


def test_released_bytes_make_room_again() -> None:
    breaker = InFlightRequestsBreaker(100)
    breaker.add_estimate_bytes_and_maybe_break(50, "<http_request>")
    _trip(breaker, 1)
    breaker.release(50)
    breaker.add_estimate_bytes_and_maybe_break(50, "<http_request>")
    assert breaker.used == 50


def test_a_limit_of_zero_refuses_everything_as_es_does() -> None:
    assert _trip(InFlightRequestsBreaker(0), 10).reason == (
        "[in_flight_requests] Data too large, data for [<http_request>] would be [10/10b], "
        "which is larger than the limit of [0/0b]"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0b"), (582, "582b"), (1024, "1kb"), (1_258_291, "1.1mb"), (103_809_024, "99mb"), (2_087_772_160, "1.9gb")],
)
def test_byte_sizes_print_as_es_byte_size_value(size: int, text: str) -> None:
    assert format_byte_size(size) == text


@pytest.mark.parametrize(("text", "size"), [("100mb", 100 << 20), ("512KB", 512 << 10), ("0b", 0), (" 2gb ", 2 << 30)])
def test_byte_size_settings_parse_as_es_reads_them(text: str, size: int) -> None:
    assert parse_byte_size(text) == size


@pytest.mark.parametrize("text", ["100", "1.5mb", "mb", "-1mb", "10xb"])
def test_byte_size_settings_refuse_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="invalid byte size"):
        parse_byte_size(text)


def test_http_limits_have_es_defaults_and_a_read_timeout(tmp_path: Path) -> None:
    config = NodeConfig(name="node-1", data_dir=tmp_path)
    assert (config.http_max_content_length, config.inflight_requests_limit) == (100 << 20, 256 << 20)
    assert HttpLimits.of(config) == HttpLimits(max_content_length=100 << 20, read_timeout_s=30.0)
    assert HttpLimits.of(config.with_changes(http_read_timeout_ms=0)).read_timeout_s is None


def test_http_limits_survive_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = NodeConfig(
        name="node-1",
        data_dir=tmp_path,
        http_max_content_length=1 << 20,
        http_read_timeout_ms=1500,
        inflight_requests_limit=3000,
    )
    seen: list[NodeConfig] = []

    async def fake_run_node(parsed: NodeConfig) -> int:
        seen.append(parsed)
        return 0

    monkeypatch.setattr("node.server.run_node", fake_run_node)
    result = CliRunner().invoke(node_main, config.to_argv())
    assert result.exit_code == 0, result.output
    assert seen == [config]
