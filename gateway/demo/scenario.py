"""Load the bundled scenario and turn each step into the bytes a registry would publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.core import topics
from gateway.core.canonical import sha256_hex
from gateway.core.decision import event_entry_id
from gateway.demo.world import GATEWAY_ID, World, signed_event
from gateway.errors import ConfigError


@dataclass(frozen=True)
class Expect:
    outcome: str
    codes: tuple[str, ...] = ()
    actions: tuple[str, ...] | None = None
    same_as: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    topic: str
    key: bytes
    value: bytes
    expect: Expect
    source: str | None = None  # None: cannot be authenticated (identified by offset)
    event_id: str | None = None
    # The id of a gateway input to wait for, instead of publishing anything.
    awaits: str | None = None

    @property
    def entry_id(self) -> str | None:
        if self.source is None or self.event_id is None or self.awaits:
            return None
        return event_entry_id(self.source, self.event_id, sha256_hex(self.value))

    @property
    def is_redelivery(self) -> bool:
        return self.expect.same_as is not None


def default_scenario() -> Path:
    return Path(__file__).resolve().parent / "scenario.yaml"


def with_years(value: Any, year: int) -> Any:
    """``value`` with every ``"$YEAR"`` (the year the scenario runs in) and ``"$YEAR-1"``
    replaced by that year, as an integer."""
    if value == "$YEAR":
        return year
    if value == "$YEAR-1":
        return year - 1
    if isinstance(value, dict):
        return {k: with_years(v, year) for k, v in value.items()}
    if isinstance(value, list):
        return [with_years(v, year) for v in value]
    return value


def load_steps(world: World, path: Path | None = None, *, time: str | None = None) -> list[Step]:
    """Build the publishable steps. ``time`` fixes every event's timestamp (for tests)."""
    year = int(time[:4]) if time else datetime.now(UTC).year
    path = path or default_scenario()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read scenario {path}: {exc}", code="A6-CFG-005") from exc
    steps: list[Step] = []
    by_id: dict[str, Step] = {}
    for raw in doc["steps"]:
        e = raw["expect"]
        expect = Expect(
            outcome=e["outcome"],
            codes=tuple(sorted(e.get("codes", ()))),
            actions=tuple(e["actions"]) if "actions" in e else None,
            same_as=e.get("same_as"),
        )
        topic = topics.input_topic(str(raw.get("topic", "")))
        if "await_timeout" in raw:
            t = raw["await_timeout"]
            awaits = f"timeout-{t['ca_id']}-{t['transaction_id']}"
            step = Step(raw["id"], "", b"", b"", expect, GATEWAY_ID, awaits, awaits=awaits)
        elif "raw" in raw:
            value = raw["raw"].encode()
            step = Step(raw["id"], topic, raw["id"].encode(), value, expect)
        elif "redeliver" in raw:
            orig = by_id[raw["redeliver"]]
            step = Step(
                raw["id"], orig.topic, orig.key, orig.value, expect, orig.source, orig.event_id
            )
        else:
            signer = raw["signer"]
            key: Ed25519PrivateKey = world.keys[signer]
            if raw.get("forge"):
                key = Ed25519PrivateKey.generate()
            event_id = by_id[raw["reuse_id"]].event_id if "reuse_id" in raw else raw["id"]
            assert event_id is not None
            when = time
            if "age_hours" in raw:  # an event stamped that long before it is published
                past = datetime.now(UTC) - timedelta(hours=float(raw["age_hours"]))
                when = past.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            value = signed_event(
                key,
                key_id=world.key_id(signer),
                source=world.principal(signer),
                name=raw["type"],
                event_id=event_id,
                data=with_years(raw["data"], year),
                time=when,
            )
            authentic = not raw.get("forge") and expect.outcome != "dead-lettered"
            step = Step(
                raw["id"],
                topic,
                raw.get("key", event_id).encode(),
                value,
                expect,
                world.principal(signer) if authentic else None,
                event_id if authentic else None,
            )
        steps.append(step)
        by_id[step.id] = step
    return steps
