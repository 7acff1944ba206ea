"""``a6gw worker``: create the topics, then run the faust worker until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import NoReturn

import faust

from gateway.config import LoadedConfig
from gateway.kafka.admin import create_topics
from gateway.worker.app import create_app
from gateway.worker.topics import topic_plan


def run_worker(
    lc: LoadedConfig, *, loglevel: str = "info", datadir: Path | None = None
) -> NoReturn:
    topics, configs = topic_plan(lc.config)
    asyncio.run(
        create_topics(
            lc.config.kafka.bootstrap,
            topics,
            configs=configs,
            replication=lc.config.kafka.replication,
        )
    )
    app = create_app(lc, datadir=datadir)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    worker.execute_from_commandline()  # exits the process (SystemExit) when stopped
