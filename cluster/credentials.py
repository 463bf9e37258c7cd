"""The cluster's credentials, kept in its home (mirrors ES's security auto-configuration on a first start).

Elasticsearch 8+ secures a new cluster on its first start: it creates a CA, a transport key and certificate that
every node presents on every transport connection (the enrollment API hands the *same* transport keystore to each
node that joins later), an HTTP certificate for HTTPS, and a generated password for the `elastic` user, printed
once. `simcluster up` does the same in the cluster home:

```
<home>/certs/               0700
<home>/certs/ca.crt         the cluster CA; clients trust it (`curl --cacert`, `Elasticsearch(ca_certs=...)`)
<home>/certs/ca.key         0600; kept so a certificate that is missing can be issued again
<home>/certs/transport.crt  presented by every node, as server and as client (mutual TLS on the transport)
<home>/certs/transport.key  0600
<home>/certs/http.crt       HTTPS with `--security`: localhost, the bind address and this host's names
<home>/certs/http.key       0600
<home>/elastic-password     0600; the `elastic` user's password, created by the first `up --security`
```

One transport certificate for all nodes rather than one per node, as ES's auto-configuration does: every node of a
local cluster runs as the same user from the same home, so per-node keys would protect nothing from each other,
while a shared one lets `node add` and restarts need no CA at all. What keeps strangers out is that the key and the
CA are the home's own: another home (another cluster) has another CA, and a process without the key is refused at
the TLS handshake, before any action runs. Nodes check the certificate against the CA and a fixed server name
(`TRANSPORT_TLS_SERVER_NAME`), not against addresses (ES `verification_mode: certificate`), so any `--host` works.

Keys are ECDSA P-256: issuing all of the above takes milliseconds, which keeps test fixtures fast.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import os
import secrets
import socket
import ssl
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from node.config import TRANSPORT_TLS_SERVER_NAME

if TYPE_CHECKING:  # loading cryptography costs ~0.2 s: only a start that issues certificates pays for it
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "CERTIFICATE_VALIDITY",
    "ClusterCredentials",
    "IssuedCertificate",
    "http_certificate_names",
    "issue_certificate",
    "new_ca",
    "new_password",
    "write_owner_only",
]

# ES `elasticsearch-certutil` issues certificates for three years unless told otherwise (`--days 1095`).
CERTIFICATE_VALIDITY = datetime.timedelta(days=1095)
_CLOCK_SKEW = datetime.timedelta(minutes=5)  # valid a little before now, as a peer's clock may be behind ours

# ES's generated passwords: 20 characters, letters, digits and `*-_=+`.
_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "*-_=+"
_PASSWORD_LENGTH = 20


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A private key and its certificate, both PEM."""

    key_pem: bytes
    certificate_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.certificate_pem)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Signatures only (ECDSA keys sign TLS handshakes); a CA also signs certificates and CRLs."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def new_ca(common_name: str, now: datetime.datetime | None = None) -> IssuedCertificate:
    """A self-signed CA that may sign leaf certificates only (path length 0)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + CERTIFICATE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return IssuedCertificate(_pem_key(key), certificate.public_bytes(serialization.Encoding.PEM))


def issue_certificate(
    ca: IssuedCertificate,
    common_name: str,
    *,
    dns_names: Iterable[str] = (),
    ip_addresses: Iterable[str] = (),
    client_auth: bool = False,
    now: datetime.datetime | None = None,
) -> IssuedCertificate:
    """A leaf certificate signed by `ca`, valid for TLS servers (and clients with `client_auth`).

    It carries the extensions strict verifiers insist on (Python 3.13's `VERIFY_X509_STRICT`, browsers): subject
    alternative names, authority and subject key identifiers, and a critical `CA:FALSE`.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = now or datetime.datetime.now(datetime.UTC)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the cluster CA key is not an EC key")
    ca_certificate = ca.certificate
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dict.fromkeys(dns_names)]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in dict.fromkeys(ip_addresses)]
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, *([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])]
    authority = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(min(now + CERTIFICATE_VALIDITY, ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return IssuedCertificate(_pem_key(key), certificate.public_bytes(serialization.Encoding.PEM))


def new_password() -> str:
    """A generated `elastic` password, as ES prints on a first start: 20 characters from a CSPRNG."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))


def http_certificate_names(host: str, hostname: str, resolved: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """DNS names and IP addresses the HTTP certificate must carry for clients that verify the host they dialled.

    Loopback always (`localhost`, `127.0.0.1`, `::1`); the bind address unless it is a wildcard; this machine's
    host name and the addresses it resolves to, so `https://<hostname>:9200` verifies too when binding beyond
    loopback (ES's auto-configuration puts the same names into its HTTP certificate).
    """
    dns = ["localhost"]
    ips = ["127.0.0.1", "::1"]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        dns.append(host)
    else:
        if not address.is_unspecified:
            ips.append(str(address))
    if hostname:
        dns.append(hostname)
    ips.extend(resolved)
    return list(dict.fromkeys(dns)), list(dict.fromkeys(ips))


def _resolve(hostname: str) -> list[str]:
    with contextlib.suppress(OSError):
        return sorted({str(info[4][0]).partition("%")[0] for info in socket.getaddrinfo(hostname, None)})
    return []


def write_owner_only(path: Path, data: bytes) -> None:
    """Writes `path` readable by its owner only (0600), atomically: a reader never sees half a key.

    The mode is given at creation (`O_EXCL`), never loosened by the umask and never granted and then taken back.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _owner_only_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask, and an existing directory keeps its own


@dataclass(frozen=True, slots=True)
class ClusterCredentials:
    """Where a cluster home keeps its credentials (the layout in the module docstring)."""

    root: Path

    @property
    def certs_dir(self) -> Path:
        return self.root / "certs"

    @property
    def ca_certificate(self) -> Path:
        return self.certs_dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.certs_dir / "ca.key"

    @property
    def transport_certificate(self) -> Path:
        return self.certs_dir / "transport.crt"

    @property
    def transport_key(self) -> Path:
        return self.certs_dir / "transport.key"

    @property
    def http_certificate(self) -> Path:
        return self.certs_dir / "http.crt"

    @property
    def http_key(self) -> Path:
        return self.certs_dir / "http.key"

    @property
    def elastic_password_file(self) -> Path:
        return self.root / "elastic-password"

    def node_settings(self, *, security: bool) -> dict[str, Path | None]:
        """The `NodeConfig` fields that point a node at these credentials; HTTPS and auth only with `security`."""
        return {
            "transport_ssl_key": self.transport_key,
            "transport_ssl_certificate": self.transport_certificate,
            "transport_ssl_certificate_authorities": self.ca_certificate,
            "http_ssl_key": self.http_key if security else None,
            "http_ssl_certificate": self.http_certificate if security else None,
            "elastic_password_file": self.elastic_password_file if security else None,
        }

    def ensure(self, *, host: str = "127.0.0.1", security: bool = False) -> str | None:
        """Creates whatever is missing: the CA, the transport and HTTP certificates, and with `security` the
        `elastic` password. Existing files are kept, so a restarted cluster keeps its credentials.

        Returns:
            The password when this call generated it (for the one time it is printed), else `None`.
        """
        _owner_only_dir(self.certs_dir)
        if self.ca_certificate.exists() and self.ca_key.exists():
            ca = IssuedCertificate(self.ca_key.read_bytes(), self.ca_certificate.read_bytes())
        else:
            ca = new_ca(f"simcluster CA {secrets.token_hex(4)}")
            write_owner_only(self.ca_key, ca.key_pem)
            _write_public(self.ca_certificate, ca.certificate_pem)
            for stale in (self.transport_certificate, self.http_certificate):  # signed by a CA that is gone
                stale.unlink(missing_ok=True)
        if not (self.transport_certificate.exists() and self.transport_key.exists()):
            transport = issue_certificate(
                ca, "simcluster transport", dns_names=[TRANSPORT_TLS_SERVER_NAME], client_auth=True
            )
            write_owner_only(self.transport_key, transport.key_pem)
            _write_public(self.transport_certificate, transport.certificate_pem)
        if not (self.http_certificate.exists() and self.http_key.exists()):
            hostname = socket.gethostname()
            dns, ips = http_certificate_names(host, hostname, _resolve(hostname))
            http = issue_certificate(ca, "simcluster http", dns_names=dns, ip_addresses=ips)
            write_owner_only(self.http_key, http.key_pem)
            _write_public(self.http_certificate, http.certificate_pem)
        if not security or self.elastic_password_file.exists():
            return None
        password = new_password()
        write_owner_only(self.elastic_password_file, (password + "\n").encode())
        return password

    def ca_fingerprint(self) -> str:
        """SHA-256 of the CA certificate (DER), as ES prints it and clients pin it (`ssl_assert_fingerprint`)."""
        der = ssl.PEM_cert_to_DER_cert(self.ca_certificate.read_text(encoding="ascii"))
        return hashlib.sha256(der).hexdigest()

    def elastic_password(self) -> str | None:
        """The `elastic` user's password, `None` before the first `up --security`."""
        try:
            return self.elastic_password_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
