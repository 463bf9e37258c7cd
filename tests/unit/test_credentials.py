"""The cluster's credentials in its home (`cluster.credentials`): what is created, with which modes, and what the
certificates say."""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from cluster.credentials import ClusterCredentials, http_certificate_names, issue_certificate, new_ca, new_password
from node.config import TRANSPORT_TLS_SERVER_NAME


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that restricts nothing, so owner-only modes cannot come from the umask."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keys_and_the_password_are_owner_only_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure(security=True)
    for path in (
        credentials.ca_key,
        credentials.transport_key,
        credentials.http_key,
        credentials.elastic_password_file,
    ):
        assert _mode(path) == 0o600, path
    assert _mode(credentials.certs_dir) == 0o700
    assert sorted(p.name for p in credentials.certs_dir.iterdir()) == [
        "ca.crt", "ca.key", "http.crt", "http.key", "transport.crt", "transport.key",
    ]  # fmt: skip


def test_an_existing_certs_directory_is_closed_to_others(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.certs_dir.mkdir(mode=0o755)
    credentials.ensure()
    assert _mode(credentials.certs_dir) == 0o700


def test_the_password_is_created_only_with_security_and_only_once(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    assert credentials.ensure() is None
    assert credentials.elastic_password() is None
    password = credentials.ensure(security=True)
    assert password is not None and credentials.elastic_password() == password
    assert credentials.ensure(security=True) is None
    assert credentials.elastic_password() == password


def test_a_second_ensure_keeps_every_file(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure(security=True)
    before = {p.name: p.read_bytes() for p in credentials.certs_dir.iterdir()}
    credentials.ensure(security=True)
    assert {p.name: p.read_bytes() for p in credentials.certs_dir.iterdir()} == before


def test_a_missing_leaf_certificate_is_issued_again_by_the_same_ca(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure()
    ca = credentials.ca_certificate.read_bytes()
    credentials.http_certificate.unlink()
    credentials.ensure()
    assert credentials.ca_certificate.read_bytes() == ca
    _issued_by(credentials.http_certificate, credentials.ca_certificate)


def _issued_by(leaf_path: Path, ca_path: Path) -> x509.Certificate:
    leaf = x509.load_pem_x509_certificate(leaf_path.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    leaf.verify_directly_issued_by(ca)
    return leaf


def test_the_transport_certificate_names_the_transport_and_serves_both_ends(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure()
    leaf = _issued_by(credentials.transport_certificate, credentials.ca_certificate)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [TRANSPORT_TLS_SERVER_NAME]
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_the_http_certificate_covers_loopback_and_the_bind_address(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure(host="10.1.2.3")
    leaf = _issued_by(credentials.http_certificate, credentials.ca_certificate)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    ips = set(names.get_values_for_type(x509.IPAddress))
    assert {ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "10.1.2.3")} <= ips


def test_http_names_leave_out_a_wildcard_bind_address() -> None:
    dns, ips = http_certificate_names("0.0.0.0", "box", ["192.0.2.7"])
    assert dns == ["localhost", "box"]
    assert ips == ["127.0.0.1", "::1", "192.0.2.7"]
    assert http_certificate_names("db.example", "", []) == (["localhost", "db.example"], ["127.0.0.1", "::1"])


def test_a_ca_signs_leaves_only() -> None:
    ca = new_ca("test CA")
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    leaf = issue_certificate(ca, "leaf", dns_names=["a"])
    assert leaf.certificate.not_valid_after_utc <= ca.certificate.not_valid_after_utc


def test_generated_passwords_look_like_es_ones() -> None:
    passwords = {new_password() for _ in range(50)}
    assert len(passwords) == 50
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-_=+")
    assert all(len(p) == 20 and set(p) <= allowed for p in passwords)


def test_the_ca_fingerprint_is_the_sha256_of_its_der(tmp_path: Path) -> None:
    credentials = ClusterCredentials(tmp_path)
    credentials.ensure()
    ca = x509.load_pem_x509_certificate(credentials.ca_certificate.read_bytes())
    assert credentials.ca_fingerprint() == ca.fingerprint(hashes.SHA256()).hex()
