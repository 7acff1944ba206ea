"""Offline checks of TLS files: a certificate and its key (PEM, the key matches the
certificate, validity dates), and a CA bundle (PEM certificates that are CAs).

What ``ssl.SSLContext.load_cert_chain`` would refuse at start is an error; a certificate
that expires within :data:`EXPIRY_WARNING` is a warning (A6-CFG-EXPIRY).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gateway.services.configcheck.files import private_mode
from gateway.services.configcheck.report import Report

EXPIRY_WARNING = timedelta(days=30)
PKI_HINT = "`a6gw pki init DIR` writes a local test CA and certificates"


def _read(r: Report, path: Path, what: str) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        r.error("A6-CFG-002", path, f"cannot read the {what}: {exc.strerror}", PKI_HINT)
        return None


def _certificates(r: Report, path: Path, what: str) -> list[x509.Certificate]:
    data = _read(r, path, what)
    if data is None:
        return []
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        r.error("A6-CFG-TLS", path, f"the {what} is not a PEM certificate")
        return []
    return certs


def _dates(r: Report, path: Path, cert: x509.Certificate, what: str, now: datetime) -> bool:
    """False if the certificate is not valid now; a warning if it soon will not be."""
    subject = cert.subject.rfc4514_string()
    if cert.not_valid_before_utc > now:
        r.error(
            "A6-CFG-EXPIRY",
            path,
            f"the {what} ({subject}) is not valid before {cert.not_valid_before_utc:%Y-%m-%d}",
        )
        return False
    if cert.not_valid_after_utc <= now:
        r.error(
            "A6-CFG-EXPIRY",
            path,
            f"the {what} ({subject}) expired on {cert.not_valid_after_utc:%Y-%m-%d}",
            "issue a new certificate",
        )
        return False
    if cert.not_valid_after_utc - now < EXPIRY_WARNING:
        r.warn(
            "A6-CFG-EXPIRY",
            path,
            f"the {what} ({subject}) expires on {cert.not_valid_after_utc:%Y-%m-%d}",
            "renew it before then",
        )
    return True


def pair(
    r: Report, files: tuple[Path, Path], what: tuple[str, str], now: datetime | None = None
) -> None:
    """A certificate (with its chain) and its private key, as a server or client loads them:
    ``files`` their paths, ``what`` the config keys that name them."""
    now = now or datetime.now(UTC)
    cert_path, key_path = files
    certs = _certificates(r, cert_path, f"certificate ({what[0]})")
    data = _read(r, key_path, f"private key ({what[1]})")
    key = None
    if data is not None:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            r.error("A6-CFG-TLS", key_path, f"{what[1]} is not an unencrypted PEM private key")
        else:
            private_mode(r, key_path, f"private key ({what[1]})")
    if not certs:
        return
    fine = _dates(r, cert_path, certs[0], f"certificate ({what[0]})", now)
    if key is None:
        return
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if certs[0].public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
        r.error(
            "A6-CFG-TLS",
            key_path,
            f"the private key ({what[1]}) does not belong to the certificate {cert_path}",
            "the key and certificate files of two different identities?",
        )
    elif fine:
        r.ok(f"certificate {cert_path} and key {key_path} ({what[0]})")


def ca(r: Report, path: Path, what: str, now: datetime | None = None) -> None:
    """A CA bundle: PEM certificates, none expired (a warning for one that is no CA)."""
    now = now or datetime.now(UTC)
    certs = _certificates(r, path, what)
    before = len(r.errors)
    for cert in certs:
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            subject = cert.subject.rfc4514_string()
            r.warn("A6-CFG-TLS", path, f"the {what} holds {subject}, which is not a CA")
        _dates(r, path, cert, what, now)
    if certs and len(r.errors) == before:
        r.ok(f"{what} {path}: {len(certs)} certificate(s)")
