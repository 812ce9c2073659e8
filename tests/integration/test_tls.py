"""TLS listeners: ``smsc serve --listen ssl:PORT:privateKey=KEY:certKey=CERT`` (issue 3).

The module makes a self-signed certificate for 127.0.0.1 in a temporary directory, starts the
server with a TLS listener next to the plain one, and has clients that verify the certificate
bind, submit and get their receipts over TLS; a client that does not trust the certificate, or
speaks plain SMPP to the TLS port, gets nothing.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smsc.pdu import encode, pdus
from tests.integration.conftest import (
    HOST,
    IO_TIMEOUT,
    PRICE_CENTS,
    UA_NUMBERS,
    CodecEsme,
    SmscServer,
    accepted,
    bound_esme,
    check_receipt,
    receipt_id,
    smpplib_client,
    smpplib_send_for_receipt,
    start_server,
    submit,
    write_config,
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files: (cert, key)."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smsc integration test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path]
) -> Iterator[SmscServer]:
    cert, key = certificate
    directory = tmp_path_factory.mktemp("smsc-tls")
    started = start_server(
        directory / "smsc.sqlite",
        write_config(directory),
        extra_listen=[f"ssl:0:privateKey={key}:certKey={cert}:interface={HOST}"],
    )
    yield started
    started.stop()


@pytest.fixture
def tls_port(server: SmscServer) -> int:
    port = server.announced_port("ssl")
    assert port != server.port
    return port


def trusting(cert: Path, *, check_hostname: bool = True) -> ssl.SSLContext:
    """A client context that trusts exactly the test certificate (and verifies it)."""
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = check_hostname
    return context


def test_the_tls_listener_is_announced(server: SmscServer) -> None:
    assert any(line.startswith("listening on ssl:127.0.0.1:") for line in server.lines)
    assert any(line.startswith("listening on tcp:127.0.0.1:") for line in server.lines)


def test_codec_binds_submits_and_gets_the_receipt_over_tls(
    server: SmscServer, tls_port: int, certificate: tuple[Path, Path]
) -> None:
    login = server.add_account()
    before = server.balance(login.system_id)
    with bound_esme(tls_port, "trx", login, tls=trusting(certificate[0])) as esme:
        assert isinstance(esme.sock, ssl.SSLSocket)
        assert esme.sock.version() in ("TLSv1.2", "TLSv1.3")
        message_id = accepted(esme.request(submit(UA_NUMBERS[0], b"over TLS")))
        (receipt,) = esme.wait_receipts(1)
        assert esme.request(pdus.EnquireLink()).command_status == 0
        assert esme.request(pdus.Unbind()).command_status == 0
    check_receipt(receipt, message_id)
    assert server.balance(login.system_id) == before - PRICE_CENTS


def test_a_receipt_of_a_plain_submit_reaches_a_tls_receiver(
    server: SmscServer, tls_port: int, certificate: tuple[Path, Path]
) -> None:
    login = server.add_account()
    with bound_esme(tls_port, "rx", login, tls=trusting(certificate[0])) as receiver:
        with bound_esme(server.port, "tx", login) as sender:
            message_id = accepted(sender.request(submit(UA_NUMBERS[1], b"plain then TLS")))
        (receipt,) = receiver.wait_receipts(1)
    check_receipt(receipt, message_id)


def test_smpplib_over_tls(
    server: SmscServer, tls_port: int, certificate: tuple[Path, Path]
) -> None:
    login = server.add_account()
    context = trusting(certificate[0], check_hostname=False)  # smpplib gives no server name
    with smpplib_client(tls_port, tls=context) as client:
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        smpplib_send_for_receipt(client, UA_NUMBERS[2], b"smpplib over TLS")
    response: Any = client.sent[0]
    assert response.status == 0
    assert receipt_id(client.received[0].short_message) == response.message_id


def test_a_client_that_does_not_trust_the_certificate_cannot_connect(
    server: SmscServer, tls_port: int
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        CodecEsme(tls_port, tls=ssl.create_default_context())
    # The server keeps serving TLS clients after the failed handshake.
    login = server.add_account()
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    with bound_esme(tls_port, "trx", login, tls=insecure) as esme:
        accepted(esme.request(submit(UA_NUMBERS[3], b"unverified but encrypted")))


def test_plain_smpp_to_the_tls_port_gets_no_smpp_answer(
    server: SmscServer, tls_port: int, certificate: tuple[Path, Path]
) -> None:
    login = server.add_account()
    bind = encode(
        pdus.BindTransceiver(sequence_number=1, system_id=login.system_id, password=login.password)
    )
    with socket.create_connection((HOST, tls_port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(bind)
        answer = b""
        try:
            while len(answer) < 16 and (data := sock.recv(4096)):
                answer += data
        except (TimeoutError, ConnectionResetError):
            pass
    # Whatever came back (a TLS alert, or nothing) is no SMPP bind_transceiver_resp.
    assert answer[4:8] != b"\x80\x00\x00\x09"
    # And the TLS port still serves.
    with bound_esme(tls_port, "tx", login, tls=trusting(certificate[0])) as esme:
        accepted(esme.request(submit(UA_NUMBERS[4], b"after the noise")))
