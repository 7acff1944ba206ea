"""load_config / load_trust: missing file, bad YAML, and invalid content with every problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import LoadedConfig, load_config
from gateway.core.topics import inventory_input_topic
from gateway.errors import ConfigError
from tests.unit.core.a6kit import Kit

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def docs(kit: Kit) -> tuple[Doc, Doc]:
    """The demo world's config and trust documents."""
    root = kit.world.root
    config = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    trust = yaml.safe_load((root / "trust.yaml").read_text(encoding="utf-8"))
    return config, trust


def write(tmp_path: Path, config: Doc | str, trust: Doc | str | None = None) -> Path:
    for name, doc in (("config.yaml", config), ("trust.yaml", trust)):
        if doc is not None:
            text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False)
            (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / "config.yaml"


def error(code: str, load: Callable[[], object]) -> str:
    with pytest.raises(ConfigError) as info:
        load()
    assert info.value.code == code, str(info.value)
    assert str(info.value).startswith(f"[{code}] ")
    return str(info.value)


def test_the_demo_world_loads(tmp_path: Path, docs: tuple[Doc, Doc]) -> None:
    lc = load_config(write(tmp_path, *docs))
    assert isinstance(lc, LoadedConfig) and lc.base == tmp_path.resolve()
    assert lc.data_dir == tmp_path.resolve() / "data"
    trust = lc.load_trust()
    assert trust.roles_for("a6gw.issuance.v1") == ("registry",)
    assert lc.config.joint_committees_of("MNG") == {"JC-JPN-MNG"}
    assert lc.config.input_topics()[inventory_input_topic("IDN")].registry is None


# ---- A6-CFG-002 and A6-CFG-003 --------------------------------------------------------


def test_missing_config_file(tmp_path: Path) -> None:
    assert "cannot read" in error("A6-CFG-002", lambda: load_config(tmp_path / "nope.yaml"))


def test_missing_trust_file(tmp_path: Path, docs: tuple[Doc, Doc]) -> None:
    lc = load_config(write(tmp_path, docs[0]))
    assert "trust.yaml" in error("A6-CFG-002", lc.load_trust)


@pytest.mark.parametrize("text", ["parties: [JPN", "a: b: c", "\tkafka: {}", "x: *undefined"])
def test_config_that_is_not_yaml(tmp_path: Path, text: str) -> None:
    assert "not valid YAML" in error("A6-CFG-003", lambda: load_config(write(tmp_path, text)))


def test_trust_that_is_not_yaml(tmp_path: Path, docs: tuple[Doc, Doc]) -> None:
    lc = load_config(write(tmp_path, docs[0], "keys: [{key_id: a"))
    error("A6-CFG-003", lc.load_trust)


# ---- A6-CFG-004: valid YAML, invalid content ------------------------------------------


def _config(docs: tuple[Doc, Doc], change: Callable[[Doc], object]) -> Doc:
    doc = copy.deepcopy(docs[0])
    change(doc)
    return doc


def _trust(docs: tuple[Doc, Doc], change: Callable[[Doc], object]) -> Doc:
    doc = copy.deepcopy(docs[1])
    change(doc)
    return doc


CONFIG_PROBLEMS: dict[str, tuple[Callable[[Doc], object], str]] = {
    "unknown-party": (
        lambda d: d["registries"].append({"id": "KOR01", "party": "KOR"}),
        "registry KOR01 names unknown party KOR",
    ),
    "duplicate-registry": (
        lambda d: d["registries"].append({"id": "JPN01", "party": "JPN"}),
        "registry ids must be unique",
    ),
    "https-without-endpoint": (
        lambda d: d["registries"][1].update(transport="https"),
        "registry MNG01: transport https needs an https:// endpoint",
    ),
    "https-with-http-endpoint": (
        lambda d: d["registries"][1].update(transport="https", endpoint="http://mng.example"),
        "registry MNG01: transport https needs an https:// endpoint",
    ),
    "ca-unknown-party": (
        lambda d: d["cooperative_approaches"][0].update(parties=["JPN", "KOR"]),
        "cooperative approach CA0001 names unknown parties",
    ),
    "bad-registry-id": (lambda d: d["registries"][0].update(id="JPN1"), "registries.0.id"),
    "unknown-section": (lambda d: d.update(extra={"a": 1}), "extra: Extra inputs"),
    "no-parties": (lambda d: d.update(parties=[]), "parties"),
}


@pytest.mark.parametrize("name", sorted(CONFIG_PROBLEMS))
def test_invalid_config_names_the_problem(tmp_path: Path, docs: tuple[Doc, Doc], name: str) -> None:
    change, expect = CONFIG_PROBLEMS[name]
    path = write(tmp_path, _config(docs, change))
    message = error("A6-CFG-004", lambda: load_config(path))
    assert expect in message and str(path) in message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_config_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    error("A6-CFG-004", lambda: load_config(write(tmp_path, text)))


def _naive_time(d: Doc) -> None:
    d["keys"][0]["valid_from"] = "2026-01-01T00:00:00"


TRUST_PROBLEMS: dict[str, tuple[Callable[[Doc], object], str]] = {
    "naive-datetime": (_naive_time, "validity times need a UTC offset"),
    "duplicate-key-id": (lambda d: d["keys"].append(dict(d["keys"][0])), "key ids must be unique"),
    "unknown-event-type": (
        lambda d: d["event_roles"].update({"a6gw.teleport.v1": ["registry"]}),
        "event_roles names unknown event types: ['a6gw.teleport.v1']",
    ),
    "unknown-role": (lambda d: d["keys"][0].update(role="king"), "keys.0.role"),
    "unknown-status": (lambda d: d["keys"][0].update(status="lost"), "keys.0.status"),
}


@pytest.mark.parametrize("name", sorted(TRUST_PROBLEMS))
def test_invalid_trust_names_the_problem(tmp_path: Path, docs: tuple[Doc, Doc], name: str) -> None:
    change, expect = TRUST_PROBLEMS[name]
    lc = load_config(write(tmp_path, docs[0], _trust(docs, change)))
    message = error("A6-CFG-004", lc.load_trust)
    assert expect in message and "trust.yaml" in message


def test_every_field_problem_is_listed_at_once(tmp_path: Path, docs: tuple[Doc, Doc]) -> None:
    def many(d: Doc) -> None:
        d["registries"][0].update(transport="https")
        d["registries"][2].update(transport="https", endpoint="ftp://idn")
        d["parties"][1]["code"] = "mongolia"
        d["kafka"]["partitions"] = 0

    message = error("A6-CFG-004", lambda: load_config(write(tmp_path, _config(docs, many))))
    for part in (
        "registry JPN01: transport https",
        "registry IDN01: transport https",
        "parties.1.code",
        "kafka.partitions",
    ):
        assert part in message, part


def test_every_trust_field_problem_is_listed_at_once(tmp_path: Path, docs: tuple[Doc, Doc]) -> None:
    def many(d: Doc) -> None:
        _naive_time(d)
        d["keys"][3]["valid_to"] = "2030-01-01T00:00:00"
        d["keys"][5]["role"] = "king"

    lc = load_config(write(tmp_path, docs[0], _trust(docs, many)))
    message = error("A6-CFG-004", lc.load_trust)
    assert message.count("validity times need a UTC offset") == 2 and "keys.5.role" in message


def test_every_cross_reference_problem_is_listed_at_once(
    tmp_path: Path, docs: tuple[Doc, Doc]
) -> None:
    def many(d: Doc) -> None:
        d["registries"].append({"id": "KOR01", "party": "KOR"})
        d["registries"].append({"id": "JPN01", "party": "JPN"})

    message = error("A6-CFG-004", lambda: load_config(write(tmp_path, _config(docs, many))))
    assert "unknown party KOR" in message and "registry ids must be unique" in message
