"""https webhooks connect to the checked address and still verify the host's certificate (SNI + hostname):
a real TLS receiver on loopback with a certificate for `receiver.test` from a CA made here."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tiktok_publisher.adapters.webhook_http import HttpWebhookTransport
from tiktok_publisher.domain.ssrf import TargetPolicy, parse_url


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def _certificates(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for `host` signed by it: (ca.pem, server.pem, server.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("webhook test CA"))
        .issuer_name(_name("webhook test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[dict[str, Any]]:
    ca, cert, key = _certificates(tmp_path, "receiver.test")
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"port": server.server_address[1], "ca": str(ca), "seen": seen}
    server.shutdown()
    server.server_close()


def test_https_to_the_checked_address_verifies_the_hosts_certificate(tls_receiver: dict[str, Any]) -> None:
    transport = HttpWebhookTransport(ca_certs=tls_receiver["ca"], total_timeout=5)
    policy = TargetPolicy(allow_loopback=True)
    url = parse_url(f"https://receiver.test:{tls_receiver['port']}/hook", policy)
    # When the host's checked address is dialled, TLS names the host (SNI) and checks its certificate
    result = transport.post(url, "127.0.0.1", {"webhook-id": "msg_1"}, b"{}")
    assert (result.status_code, result.error) == (200, None)
    assert tls_receiver["seen"][0]["host"] == f"receiver.test:{tls_receiver['port']}"


def test_a_certificate_for_another_host_or_an_unknown_ca_fails_the_attempt(
    tls_receiver: dict[str, Any], tmp_path: Path
) -> None:
    policy = TargetPolicy(allow_loopback=True)
    # A name the certificate does not cover
    other = parse_url(f"https://elsewhere.test:{tls_receiver['port']}/hook", policy)
    result = HttpWebhookTransport(ca_certs=tls_receiver["ca"], total_timeout=5).post(
        other, "127.0.0.1", {}, b"{}"
    )
    assert (result.status_code, result.error) == (None, "tls_error")
    # The public CA bundle does not know the test CA
    url = parse_url(f"https://receiver.test:{tls_receiver['port']}/hook", policy)
    result = HttpWebhookTransport(total_timeout=5).post(url, "127.0.0.1", {}, b"{}")
    assert (result.status_code, result.error) == (None, "tls_error")
    assert tls_receiver["seen"] == []
