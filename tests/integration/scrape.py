"""Reading a process's ``/metrics``, ``/livez`` and ``/readyz`` in tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Scrape:
    """The samples of one scrape: sample name → labels → value."""

    samples: dict[str, dict[Labels, float]]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels``."""
        want = set(labels.items())
        return sum(v for ls, v in self.samples.get(name, {}).items() if want <= ls)

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """The samples of ``name`` (with ``labels``) summed by ``label``."""
        want = set(labels.items())
        out: dict[str, float] = {}
        for ls, v in self.samples.get(name, {}).items():
            if want <= ls:
                key = dict(ls).get(label, "")
                out[key] = out.get(key, 0.0) + v
        return {k: v for k, v in out.items() if v}

    def series(self, name: str) -> list[tuple[dict[str, str], float]]:
        return [(dict(ls), v) for ls, v in self.samples.get(name, {}).items()]


def scrape(base: str) -> Scrape:
    text = httpx.get(f"{base}/metrics", timeout=10).raise_for_status().text
    samples: dict[str, dict[Labels, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return Scrape(samples)


def health(base: str, path: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base}{path}", timeout=15)
    return response.status_code, json.loads(response.text)


def wait_for(what: str, ok: Callable[[], bool], timeout: float, pause: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(pause)
