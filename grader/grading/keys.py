"""The cluster's keys: `python -m grader cluster-keys KEYS`, and the Security a
grading command connects with.

A certificate authority of the course's own signs one certificate for each member
of a cluster: the scheduler, the workers (one certificate all of them share) and
the grading command (the coordinator). Each member's PEM holds its certificate and
its private key; KEYS/ca.pem holds the authority's certificate, which every member
checks its peers' certificates against (Dask's TLS: both sides show a certificate,
and Dask checks no host names, only the authority). The authority's own private key
is never written: nobody can sign another certificate, and new keys for everyone
(a new KEYS) are how a lost key is revoked. KEYS is made readable by its owner only
(0700, files 0600).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from ..model import InputError

CA_FILE = "ca.pem"
ROLES = ("scheduler", "worker", "coordinator")
VALID_DAYS = 5 * 365
LOOPBACK_NAMES = ("localhost",)


def key_file(keys: Path, role: str) -> Path:
    """The PEM (certificate and key) of one member of the cluster."""
    return Path(keys) / f"{role}.pem"


def make_cluster_keys(keys: Path, course: str = "backprop") -> list[Path]:
    """Write KEYS/ca.pem and a certificate and key for each role (0600 files in a
    0700 folder); the files written. InputError when KEYS already holds keys (they
    are never replaced: members in use hold them)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    keys = Path(keys)
    names = [CA_FILE, *(key_file(keys, role).name for role in ROLES)]
    if keys.exists() and not keys.is_dir():
        raise InputError(f"{keys} is a file; give a new folder for the keys")
    present = [name for name in names if (keys / name).exists()]
    if present:
        raise InputError(
            f"{keys} already holds cluster keys ({', '.join(present)}); they are "
            "never replaced. To make new ones (every member then needs them), give "
            "a new folder, or remove this one first."
        )
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys, 0o700)

    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = _name(f"{course} grading cluster CA")
    ca = _certificate(
        authority, authority, authority_key.public_key(), authority_key,
        [(x509.BasicConstraints(ca=True, path_length=0), True),
         (x509.KeyUsage(False, False, False, False, False, True, True, False, False),
          True)],
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    written = [_write_private(keys / CA_FILE, ca.public_bytes(pem))]
    # Every member both listens and connects (workers talk to their peers).
    usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    for role in ROLES:
        member_key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(
            _name(f"{course} {role}"), authority, member_key.public_key(),
            authority_key,
            [(x509.BasicConstraints(ca=False, path_length=None), True),
             (x509.ExtendedKeyUsage(usage), False)],
        )  # fmt: skip
        private = member_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        content = certificate.public_bytes(pem) + private
        written.append(_write_private(key_file(keys, role), content))
    return written


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, extensions):
    """A certificate valid from now for VALID_DAYS, signed with `signing_key`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _write_private(path: Path, content: bytes) -> Path:
    """A new file readable by its owner only (never through a link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    handle = os.open(path, flags, 0o600)
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    os.chmod(path, 0o600)
    return path


def cluster_security(keys: Path, role: str = "coordinator"):
    """Dask's Security for this member: TLS with the course's authority, both
    sides' certificates checked, nothing unencrypted. InputError when a file is
    missing or unreadable."""
    from distributed.security import Security

    keys = Path(keys)
    needed = [keys / CA_FILE, key_file(keys, role)]
    for path in needed:
        try:
            path.read_bytes()
        except OSError as error:
            raise InputError(
                f"--cluster-keys {keys}: cannot read {path.name} "
                f"({error.strerror or error}); make the keys with "
                f"`python -m grader cluster-keys {keys}`"
            ) from None
    member = str(key_file(keys, role))
    return Security(
        tls_ca_file=str(keys / CA_FILE),
        tls_client_cert=member,
        tls_client_key=member,
        require_encryption=True,
    )


def tls_commands(keys: str = "KEYS", host: str = "HOST") -> str:
    """The commands that start a cluster with the keys, as the README gives them."""
    ca = f"{keys}/{CA_FILE}"
    return (
        f"  python -m grader cluster-keys {keys}\n"
        f"  dask scheduler --host 0.0.0.0 --port 8786 --tls-ca-file {ca} "
        f"--tls-cert {keys}/scheduler.pem --tls-key {keys}/scheduler.pem\n"
        f"  dask worker tls://{host}:8786 --tls-ca-file {ca} "
        f"--tls-cert {keys}/worker.pem --tls-key {keys}/worker.pem\n"
        f"  python -m grader grade SUBMISSIONS --out OUT "
        f"--scheduler tls://{host}:8786 --cluster-keys {keys}"
    )


def check_scheduler(address: str, keys: Path | None) -> None:
    """InputError unless the scheduler may be used so: tls:// with keys, or tcp://
    (unencrypted, anyone who reaches it runs code on the workers) on loopback."""
    parts = urlsplit(address)
    if parts.scheme == "tls":
        if keys is None:
            raise InputError(
                f"--scheduler {address} needs --cluster-keys KEYS (the folder "
                "`python -m grader cluster-keys` wrote), e.g.:\n" + tls_commands()
            )
        return
    if parts.scheme == "tcp" and _is_loopback(parts.hostname or ""):
        if keys is not None:
            raise InputError(
                f"--cluster-keys is for a TLS scheduler: give tls://HOST:PORT, "
                f"not {address}"
            )
        return
    raise InputError(
        f"--scheduler {address}: a scheduler other programs can reach must use "
        "TLS with the course's keys (without it, anyone who reaches its port runs "
        "code on every worker as root); tcp:// is for loopback (127.0.0.1) only. "
        "Start the cluster with keys:\n" + tls_commands()
    )


def _is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's loopback."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
