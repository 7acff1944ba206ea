"""The demo world's gateway on a broker: config, topics, a running worker, its audit store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig, load_config
from gateway.demo.world import World, write_world
from gateway.transport.acls import provision
from gateway.transport.clients import KafkaClients
from gateway.transport.topic_plan import ensure_topics
from gateway.worker.process import WorkerProcess


@dataclass
class Gateway:
    world: World
    lc: LoadedConfig
    topics: dict[str, int]
    worker: WorkerProcess
    store: AuditStore
    admin: KafkaClients  # the broker admin's clients (the demo's and tests' observer)


def start_gateway(
    root: Path,
    admin: KafkaClients,
    *,
    transfer_answer_s: int = 86_400,
    adjust: Callable[[World], None] | None = None,
    env: dict[str, str] | None = None,
) -> Gateway:
    """Write the demo world under ``root``, provision its principals (credentials under
    ``root/kafka-credentials``), create its topics, start a worker on them.

    ``adjust`` may change the world's config before anything reads it; ``env`` is added to
    the worker's environment.
    """
    world = write_world(root, bootstrap=admin.bootstrap, transfer_answer_s=transfer_answer_s)
    if adjust is not None:
        adjust(world)
    lc = load_config(world.config_path)
    asyncio.run(provision(lc, admin))
    topics, _created = asyncio.run(ensure_topics(admin, lc.config))
    worker = WorkerProcess(world.config_path, root / "worker.log", env=env)
    worker.start()
    return Gateway(world, lc, topics, worker, AuditStore(Path(lc.audit_store())), admin)
