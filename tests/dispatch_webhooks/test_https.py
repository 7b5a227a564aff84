"""HTTPS receivers: the certificate is verified against the URL's host while connecting to the checked address."""

from __future__ import annotations

import datetime as dt
import ipaddress
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

from linia.dispatch import webhooks


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linia-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[bytes]]]:
    cert, key = _self_signed(tmp_path)
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), cert, bodies
    server.shutdown()
    server.server_close()


def test_untrusted_certificate_fails_the_attempt(settings: Any, tls_server: tuple[int, Path, list[bytes]]) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    port, _cert, bodies = tls_server
    out = webhooks.post(f"https://127.0.0.1:{port}/hook", b"{}", {"Content-Type": "application/json"}, timeout=3)
    assert not out.ok and "CERTIFICATE_VERIFY_FAILED" in out.error and bodies == []


def test_trusted_certificate_delivers(settings: Any, monkeypatch: pytest.MonkeyPatch,
                                      tls_server: tuple[int, Path, list[bytes]]) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    port, cert, bodies = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context()
    out = webhooks.post(f"https://127.0.0.1:{port}/hook?x=1", b'{"id":1}', {"Content-Type": "application/json"},
                        timeout=3)
    assert out.ok and out.status_code == 204, out.error
    assert bodies == [b'{"id":1}']
