"""The cluster's keys and the scheduler's address (grader.grading.keys).

`cluster-keys KEYS` writes a certificate authority and one PEM (certificate and
key) per member, readable by root only, each certificate signed by the authority
and usable for both ends of TLS; existing keys are never replaced. A scheduler
address is tls:// with keys, or tcp:// on loopback; anything else is refused with
the commands that start a TLS cluster.
"""

from __future__ import annotations

import ssl

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from grader.grading.keys import (
    CA_FILE,
    ROLES,
    check_scheduler,
    cluster_security,
    key_file,
    make_cluster_keys,
)
from grader.model import InputError


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys") / "KEYS"
    make_cluster_keys(folder)
    return folder


def test_the_keys_are_root_only(keys):
    assert keys.stat().st_mode & 0o777 == 0o700
    names = sorted(path.name for path in keys.iterdir())
    assert names == sorted([CA_FILE, *(f"{role}.pem" for role in ROLES)])
    assert {path.stat().st_mode & 0o777 for path in keys.iterdir()} == {0o600}


@pytest.mark.parametrize("role", ROLES)
def test_each_member_holds_a_certificate_the_authority_signed(keys, role):
    """The certificate verifies against ca.pem, serves and connects (both TLS
    ends), and its private key is in the same file (ssl loads the pair)."""
    ca = x509.load_pem_x509_certificate((keys / CA_FILE).read_bytes())
    member = x509.load_pem_x509_certificate(key_file(keys, role).read_bytes())
    member.verify_directly_issued_by(ca)
    usage = member.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usage) == {
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_cert_chain(key_file(keys, role))
    assert b"PRIVATE KEY" not in (keys / CA_FILE).read_bytes()


def test_keys_are_never_replaced(keys):
    before = {path.name: path.read_bytes() for path in keys.iterdir()}
    with pytest.raises(InputError, match="already holds cluster keys"):
        make_cluster_keys(keys)
    assert {path.name: path.read_bytes() for path in keys.iterdir()} == before


def test_missing_keys_are_named(tmp_path):
    with pytest.raises(InputError, match=r"cannot read ca\.pem.*cluster-keys"):
        cluster_security(tmp_path)


@pytest.mark.parametrize(
    "address",
    ["tcp://127.0.0.1:8786", "tcp://localhost:8786", "tcp://[::1]:8786",
     "tcp://127.0.0.2:8786"],
)  # fmt: skip
def test_plain_tcp_is_for_loopback(address):
    check_scheduler(address, None)


@pytest.mark.parametrize(
    "address",
    ["tcp://10.0.0.5:8786", "tcp://0.0.0.0:8786", "tcp://grading.example:8786",
     "10.0.0.5:8786", "inproc://x", "ws://127.0.0.1:8786"],
)  # fmt: skip
def test_anything_else_without_tls_is_refused_with_the_commands(address):
    with pytest.raises(InputError) as refused:
        check_scheduler(address, None)
    message = str(refused.value)
    assert "python -m grader cluster-keys KEYS" in message
    assert "--tls-ca-file KEYS/ca.pem --tls-cert KEYS/worker.pem" in message
    assert "--scheduler tls://" in message


def test_tls_needs_the_keys_and_the_keys_need_tls(keys):
    check_scheduler("tls://10.0.0.5:8786", keys)
    with pytest.raises(InputError, match="needs --cluster-keys"):
        check_scheduler("tls://10.0.0.5:8786", None)
    with pytest.raises(InputError, match="for a TLS scheduler"):
        check_scheduler("tcp://127.0.0.1:8786", keys)
