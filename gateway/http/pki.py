"""A small local PKI for the demo and the tests: a CA, server and client certificates.

``a6gw pki init DIR`` writes ``ca.pem`` (the trust anchor both sides load), and for each
name a certificate and key, ``NAME.pem`` and ``NAME.key``:

- ``server``: a TLS server certificate for ``localhost`` and ``127.0.0.1`` (the auditors'
  API and the partner ingress);
- one client certificate per identity given (``auditor`` and the registries by default):
  its subject common name is the identity the gateway maps to a role or registry id.

Keys are ECDSA P-256; certificates are X.509 v3 with the usual constraints (RFC 5280):
the CA is ``cA=true`` with ``keyCertSign``; leaves carry ``serverAuth`` or ``clientAuth``.
Production deployments use their own PKI; this one never leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ConfigError
from gateway.files import private_dir, write_secret

__all__ = ["Issued", "LocalCA", "init_pki"]

VALID_DAYS = 825  # the longest lifetime browsers accept for TLS server certificates


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "a6gw local PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret(path, pem)  # 0600 from creation; a wider file left there is replaced


class LocalCA:
    """A self-signed CA that issues server and client certificates into one folder."""

    def __init__(self, root: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate):
        self.root = root
        self.key = key
        self.cert = cert

    @classmethod
    def create(cls, root: Path, name: str = "a6gw local CA") -> LocalCA:
        private_dir(root)  # 0700: it holds the CA's key
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        (root / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(root / "ca.key", key)
        return cls(root, key, cert)

    @classmethod
    def load(cls, root: Path) -> LocalCA:
        """:raises ConfigError: (A6-CFG-PKI) when the CA files are missing or invalid."""
        try:
            cert = x509.load_pem_x509_certificate((root / "ca.pem").read_bytes())
            key = serialization.load_pem_private_key((root / "ca.key").read_bytes(), None)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load the CA in {root}: {exc}", code="A6-CFG-PKI") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{root / 'ca.key'} is not an EC key", code="A6-CFG-PKI")
        return cls(root, key, cert)

    def issue(self, name: str, *, server: bool = False, hosts: tuple[str, ...] = ()) -> Issued:
        """A leaf certificate ``NAME.pem``/``NAME.key`` for a server or a client."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if hosts:
            alt: list[x509.GeneralName] = []
            for host in hosts:
                try:
                    alt.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    alt.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(self.root / f"{name}.pem", self.root / f"{name}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(issued.key, key)
        return issued


def init_pki(root: Path, clients: tuple[str, ...]) -> LocalCA:
    """A new CA in ``root`` with a ``server`` certificate and one per client identity."""
    ca = LocalCA.create(root)
    ca.issue("server", server=True, hosts=("localhost", "127.0.0.1"))
    for name in clients:
        ca.issue(name)
    return ca
