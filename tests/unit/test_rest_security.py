"""Basic authentication as ES's reserved realm answers it (`rest.security`), and ES's 401 bodies."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from node.config import NodeConfig, is_loopback_host
from node.errors import SecurityError
from rest.security import AUTHENTICATE_CHALLENGES, ReservedRealm, security_middlewares, security_routes

REALM = ReservedRealm("s3cret-Pa55word*")


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def refusal(authorization: str | None, uri: str = "/_tasks?pretty") -> SecurityError:
    with pytest.raises(SecurityError) as refused:
        REALM.authenticate(authorization, uri)
    return refused.value


def test_the_elastic_user_with_its_password_is_authenticated() -> None:
    assert REALM.authenticate(basic("elastic:s3cret-Pa55word*"), "/") == "elastic"
    assert REALM.authenticate("basic " + basic("elastic:s3cret-Pa55word*")[6:], "/") == "elastic"


def test_no_credentials_is_es_missing_credentials_401_with_every_challenge() -> None:
    error = refusal(None)
    expected = {
        "type": "security_exception",
        "reason": "missing authentication credentials for REST request [/_tasks?pretty]",
        "header": {
            "WWW-Authenticate": ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]
        },
    }
    assert error.to_response_body() == {"error": {"root_cause": [expected], **expected}, "status": 401}
    assert error.headers == {"WWW-Authenticate": list(AUTHENTICATE_CHALLENGES)}


def test_another_scheme_counts_as_no_credentials() -> None:
    assert refusal("Bearer abc").reason == "missing authentication credentials for REST request [/_tasks?pretty]"


@pytest.mark.parametrize("credentials", ["elastic:wrong", "elastic:", "elastic:s3cret-Pa55word*x"])
def test_a_wrong_password_is_es_unable_to_authenticate(credentials: str) -> None:
    error = refusal(basic(credentials), "/")
    assert error.reason == "unable to authenticate user [elastic] for REST request [/]"
    assert error.status == 401 and error.headers["WWW-Authenticate"] == list(AUTHENTICATE_CHALLENGES)


def test_another_user_is_named_in_the_refusal() -> None:
    assert (
        refusal(basic("kibana:s3cret-Pa55word*"), "/").reason
        == "unable to authenticate user [kibana] for REST request [/]"
    )


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Basic ", "invalid basic authentication header value"),
        ("Basic !!!", "invalid basic authentication header encoding"),
        (basic("elastic"), "invalid basic authentication header value"),
    ],
)
def test_a_malformed_basic_header_is_es_invalid_header_401(authorization: str, reason: str) -> None:
    error = refusal(authorization)
    assert error.reason == reason
    assert error.to_dict()["header"] == {"WWW-Authenticate": 'Basic realm="security", charset="UTF-8"'}


def test_security_errors_survive_the_wire() -> None:
    error = refusal(None)
    rebuilt = SecurityError.from_wire(error.to_wire())
    assert isinstance(rebuilt, SecurityError)
    assert rebuilt.headers == error.headers and rebuilt.to_response_body() == error.to_response_body()


def test_without_a_password_file_the_node_is_open_and_has_no_security_routes(tmp_path: Path) -> None:
    config = NodeConfig(name="node-1", data_dir=tmp_path)
    assert security_middlewares(config) == []
    assert security_routes(config) == []


def test_with_a_password_file_every_request_is_authenticated(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    config = NodeConfig(name="node-1", data_dir=tmp_path, elastic_password_file=tmp_path / "pw")
    assert len(security_middlewares(config)) == 1
    assert [(m, p) for m, p, _ in security_routes(config)] == [("GET", "/_security/_authenticate")]
    assert ReservedRealm.load(config) == ReservedRealm("s3cret")


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    with pytest.raises(OSError, match="is empty"):
        ReservedRealm.load(NodeConfig(name="node-1", data_dir=tmp_path, elastic_password_file=tmp_path / "pw"))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("::", False), ("10.0.0.5", False), ("box.example", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
