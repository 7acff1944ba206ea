"""The auditors' web page: static HTML, CSS and ES modules, no build step.

The page checks what the API shows it in the browser itself: RFC 9162 leaf hashes and
inclusion and consistency proofs (WebCrypto SHA-256), and the C2SP signed checkpoint
(WebCrypto Ed25519) against a log key the auditor pins. ``a6gw ui`` serves :data:`STATIC`
on the auditor's own machine; the API serves the same files at ``/ui/``.
"""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
