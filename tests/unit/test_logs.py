"""gateway.logs: JSON lines and text lines, the flags and their environment defaults, the
libraries' floors, and the redaction every line passes through (gateway.redaction)."""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from gateway import logs, redaction
from gateway.errors import ConfigError

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    """Each test configures the root logger; put it back as pytest had it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in logs.LIBRARY_FLOORS}
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    for name, lv in levels.items():
        logging.getLogger(name).setLevel(lv)
    redaction.forgotten()


def lines(fmt: str, level: str = "debug") -> tuple[io.StringIO, logging.Logger]:
    out = io.StringIO()
    logs.configure(fmt, level, stream=out)
    return out, logging.getLogger("a6gw.test")


def test_a_json_line_has_time_level_logger_message_and_the_extra_fields() -> None:
    out, log = lines("json")
    log.info("decided %s", "e-1", extra={"codes": ["BLK-004"], "offset": 7})
    (line,) = out.getvalue().splitlines()
    doc = json.loads(line)
    assert RFC3339_UTC.match(doc["time"]), doc["time"]
    assert doc["level"] == "info" and doc["logger"] == "a6gw.test"
    assert doc["message"] == "decided e-1"
    assert doc["codes"] == ["BLK-004"] and doc["offset"] == 7
    assert isinstance(doc["pid"], int)


def test_an_exception_stays_on_its_json_line() -> None:
    out, log = lines("json")
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        log.exception("failed")
    (line,) = out.getvalue().splitlines()
    doc = json.loads(line)
    assert doc["level"] == "error"
    assert "ValueError: bad\nvalue" in doc["exception"]


def test_utc_time_is_rfc3339_with_milliseconds() -> None:
    assert logs.utc_time(0.25) == "1970-01-01T00:00:00.250Z"
    assert logs.utc_time(1_767_225_600.999) == "2026-01-01T00:00:00.999Z"
    # the text of a second is kept for the next line: each second still gets its own
    assert logs.utc_time(1_767_225_600.5) == "2026-01-01T00:00:00.500Z"
    assert logs.utc_time(1_767_225_601.0) == "2026-01-01T00:00:01.000Z"
    assert logs.utc_time(1_767_225_600.25) == "2026-01-01T00:00:00.250Z"


def test_a_text_line_ends_with_its_fields() -> None:
    out, log = lines("text")
    log.warning("stuck", extra={"topic": "t.1", "why": "no progress"})
    line = out.getvalue().strip()
    assert RFC3339_UTC.match(line.split(" ")[0])
    assert line.endswith('WARNING a6gw.test: stuck topic=t.1 why="no progress"')


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("JPN01", "JPN01"),
        ("日本", "日本"),
        ("v1.2-rc", "v1.2-rc"),
        ("", '""'),
        ("a b", '"a b"'),
        ("a=b", '"a=b"'),
        ("it's", '"it\'s"'),
        ("x\ty", '"x\\ty"'),
        (7, "7"),
        ([], "[]"),
        (["BLK-004"], '["BLK-004"]'),
        (None, "null"),
    ],
)
def test_a_field_is_bare_only_without_blanks_quotes_or_equals(value: object, shown: str) -> None:
    out, log = lines("text")
    log.warning("m", extra={"f": value})
    assert out.getvalue().strip().endswith(f" f={shown}")


def test_the_level_filters_and_the_libraries_keep_their_floors() -> None:
    out, log = lines("json", "warning")
    log.info("not shown")
    log.warning("shown")
    assert [json.loads(x)["message"] for x in out.getvalue().splitlines()] == ["shown"]
    logs.configure("json", "debug", stream=out)
    assert logging.getLogger("aiokafka").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("faust").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("a6gw.worker").getEffectiveLevel() == logging.DEBUG
    assert not logging.getLogger("aiohttp.access").isEnabledFor(logging.CRITICAL)


def test_configure_replaces_the_handlers_rather_than_adding_one() -> None:
    out, log = lines("text")
    logs.configure("json", "info", stream=out)
    log.info("once")
    assert len(out.getvalue().splitlines()) == 1
    assert json.loads(out.getvalue())["message"] == "once"


def test_unknown_format_or_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="log format 'xml'"):
        logs.configure("xml", "info")
    with pytest.raises(ConfigError, match="log level 'loud'"):
        logs.configure("text", "loud")


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    logs.add_arguments(p)
    return p.parse_args(list(argv))


def test_flags_win_over_the_environment_which_wins_over_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(logs.FORMAT_ENV, raising=False)
    monkeypatch.delenv(logs.LEVEL_ENV, raising=False)
    assert logs.chosen(parse()) == ("text", "info")
    monkeypatch.setenv(logs.FORMAT_ENV, "JSON")
    monkeypatch.setenv(logs.LEVEL_ENV, "debug")
    assert logs.chosen(parse()) == ("json", "debug")
    assert logs.chosen(parse("--log-format", "text", "--log-level", "error")) == ("text", "error")
    monkeypatch.setenv(logs.LEVEL_ENV, "verbose")
    with pytest.raises(ConfigError, match="A6GW_LOG_LEVEL='verbose'"):
        logs.chosen(parse())
    with pytest.raises(SystemExit):
        parse("--log-format", "xml")


def test_the_worker_keeps_loglevel_as_an_alias() -> None:
    from gateway.cli.main import build_parser

    args = build_parser().parse_args(["worker", "--config", "c.yaml", "--loglevel", "warning"])
    assert args.log_level == "warning"
    for command in (["api"], ["ingress"], ["reconcile", "--registry", "X"], ["worker"]):
        argv = [*command, "--config", "c.yaml", "--log-format", "json", "--log-level", "debug"]
        args = build_parser().parse_args(argv)
        assert (args.log_format, args.log_level) == ("json", "debug")
    args = build_parser().parse_args(["demo", "--log-format", "json"])
    assert args.log_format == "json"


# -- redaction --------------------------------------------------------------------------


def test_patterns_mask_pem_blocks_bearer_tokens_and_passwords() -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    text = f"key {pem.decode()} Authorization: Bearer s3cr3t.t0ken password=hunter22 end"
    masked = redaction.redact(text)
    assert "PRIVATE KEY" not in masked and "s3cr3t" not in masked and "hunter22" not in masked
    assert masked.startswith("key [REDACTED]") and masked.endswith("password=[REDACTED] end")


def test_a_registered_key_is_masked_in_every_form(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path = tmp_path / "k.pem"
    path.write_bytes(pem)
    assert redaction.protect_file(path)
    raw = key.private_bytes_raw()
    import base64

    body = "".join(pem.decode().strip().splitlines()[1:-1])
    forms = [raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode(), body]
    forms.append(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    for form in forms:  # a padded form keeps its padding: the unpadded one is masked
        assert redaction.redact(f"x={form};") in ("x=[REDACTED];", "x=[REDACTED]=;"), form
    assert redaction.redact("an ordinary line, ev-0123456789abcdef") == (
        "an ordinary line, ev-0123456789abcdef"
    )


def test_credentials_mac_keys_log_keys_and_ec_keys_are_read_from_their_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"username": "u", "password": "pw-0123456789"}))
    (tmp_path / "m.mac").write_text("ab" * 32 + "\n")
    ed = Ed25519PrivateKey.generate()
    pem = ed.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    (tmp_path / "log.key").write_text(json.dumps({"name": "n", "private_key_pem": pem}))
    ec = generate_private_key(SECP256R1())
    (tmp_path / "tls.key").write_bytes(
        ec.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption())
    )
    for name in ("c.json", "m.mac", "log.key", "tls.key"):
        assert redaction.protect_file(tmp_path / name)
    assert not redaction.protect_file(tmp_path / "absent")
    ec_raw = ec.private_numbers().private_value.to_bytes(32, "big").hex()
    for secret in ("pw-0123456789", "ab" * 32, ed.private_bytes_raw().hex(), ec_raw):
        assert secret not in redaction.redact(f"<{secret}>"), secret


def test_redaction_keeps_a_json_line_valid() -> None:
    out, log = lines("json")
    redaction.protect("q" * 20)
    log.info(
        'config {"password": "x\\"y"} and ' + "q" * 20,
        extra={"password": "p", "nested": {"api_token": "t"}, "note": "q" * 20},
    )
    doc = json.loads(out.getvalue())
    assert "q" * 20 not in out.getvalue() and '"p"' not in out.getvalue()
    assert doc["password"] == "[REDACTED]" and doc["nested"] == {"api_token": "[REDACTED]"}
    assert doc["note"] == "[REDACTED]"


def test_short_values_are_not_registered() -> None:
    redaction.protect("abc", b"12")
    assert redaction.redact("abc 12 3132") == "abc 12 3132"


def test_protect_config_finds_the_demo_worlds_secret_files(
    tmp_path: Path,
) -> None:
    from gateway.config import load_config
    from gateway.demo.world import write_world

    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    creds = tmp_path / "kafka-credentials"
    creds.mkdir()
    (creds / "a6gw-worker.json").write_text(json.dumps({"username": "w", "password": "p" * 30}))
    lc = load_config(world.config_path)
    files = redaction.config_secret_files(lc)
    assert tmp_path / "keys" / "internal.mac" in files and creds / "a6gw-worker.json" in files
    redaction.protect_config(lc, environ=[("A6GW_LOG_KEY", "z" * 40), ("HOME", "h" * 40)])
    mac = (tmp_path / "keys" / "internal.mac").read_text().strip()
    assert redaction.redact(f"{mac} {'p' * 30} {'z' * 40} {'h' * 40}") == (
        f"[REDACTED] [REDACTED] [REDACTED] {'h' * 40}"
    )


def test_the_supervisor_passes_the_format_and_level_to_each_worker_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.cli.main import main
    from gateway.demo.world import write_world
    from gateway.worker import run

    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    planned: list[tuple[str, ...]] = []

    def supervise(members: list[run.Member]) -> int:
        planned.extend(m.cmd for m in members)
        return 0

    monkeypatch.setattr(run, "supervise", supervise)
    # the start's config check wants the worker's Kafka credentials
    monkeypatch.setenv(
        "A6GW_KAFKA_CREDENTIALS_WORKER", '{"username": "a6gw-demo-worker", "password": "pw"}'
    )
    monkeypatch.setenv(logs.FORMAT_ENV, "json")
    monkeypatch.delenv(logs.LEVEL_ENV, raising=False)
    argv = ["worker", "--config", str(world.config_path), "--processes", "2"]
    assert main([*argv, "--datadir", str(tmp_path / "w"), "--loglevel", "debug"]) == 0
    assert len(planned) == 2
    for cmd in planned:
        i = cmd.index("--log-format")
        assert cmd[i : i + 4] == ("--log-format", "json", "--log-level", "debug")
    # the supervisor itself now logs JSON lines
    assert isinstance(logging.getLogger().handlers[0].formatter, logs.JsonFormatter)
