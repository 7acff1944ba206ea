"""Shared pytest fixtures.

Broker-backed tests ask for ``kafka_broker`` (or ``kafka_bootstrap``, ``kafka_admin``) and carry
``@pytest.mark.kafka``; the broker is started once per session, on demand, so unit tests never
pay for it. A module that also carries ``@pytest.mark.own_broker`` gets a broker of its own
instead (started for the module, stopped after it). The session's broker uses port 19192
(controller 19193; ``A6GW_TEST_KAFKA_PORT`` moves it) and the state dir
``.a6gw/test-kafka-<port>``, wiped at the start of each session. A lock file per port keeps
concurrent pytest sessions apart: a busy slot makes the next session use the next port pair.
The broker authenticates every client (SASL/SCRAM) and applies ACLs.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from hypothesis import settings

from gateway.demo import world
from gateway.pg import LocalPostgres
from gateway.transport import LocalBroker
from gateway.transport.clients import KafkaClients
from tests.ports import free_port_pair, ports_free

# Property tests check outcomes, not speed: on a loaded 2-core CI machine an example can
# take longer than hypothesis's default 200 ms deadline without anything being wrong.
settings.register_profile("a6gw", deadline=None)
settings.load_profile("a6gw")

TEST_KAFKA_PORT = int(os.environ.get("A6GW_TEST_KAFKA_PORT", "19192"))
_SLOTS = 8


def _claim_broker_slot(root: Path) -> tuple[LocalBroker, IO[str]]:
    """Lock the first free (port, state dir) slot; clean up what a dead session left there."""
    (root / ".a6gw").mkdir(exist_ok=True)
    for slot in range(_SLOTS):
        port = TEST_KAFKA_PORT + 2 * slot
        lock = (root / ".a6gw" / f"test-kafka-{port}.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another live pytest session uses this slot
            lock.close()
            continue
        broker = LocalBroker(root / ".a6gw" / f"test-kafka-{port}", port=port)
        broker.wipe()  # also stops a broker left behind by an interrupted session
        if ports_free(port, port + 1):
            return broker, lock
        lock.close()  # something else listens there
    pytest.fail(f"no free Kafka test port pair in {TEST_KAFKA_PORT}..+{2 * _SLOTS}")


@pytest.fixture(scope="session", autouse=True)
def _one_mac_key_per_session() -> Iterator[None]:
    """Every world written in a session is the same gateway (`a6gw-demo`): on the session's
    broker its worlds share its table changelogs and consumer group, so they share its
    internal-record MAC key too, as one gateway's processes do (a changelog value sealed
    under another key is refused at recovery). ``a6gw init`` itself keeps a random key."""
    key = secrets.token_hex(32)

    def write(path: Path) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key + "\n")

    patch = pytest.MonkeyPatch()
    patch.setattr(world, "write_mac_key", write)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def session_broker(pytestconfig: pytest.Config) -> Iterator[LocalBroker]:
    """One real Kafka broker for the whole session, on a fresh data dir; stopped at the end."""
    broker, lock = _claim_broker_slot(pytestconfig.rootpath)
    try:
        broker.start(timeout=120)
        yield broker
    finally:
        broker.stop()
        lock.close()


@pytest.fixture(scope="module")
def kafka_broker(request: pytest.FixtureRequest) -> LocalBroker:
    """The broker a module's tests use: the session's, or, for a module marked
    ``pytest.mark.own_broker`` (in its ``pytestmark``), one of the module's own."""
    own = request.node.get_closest_marker("own_broker") is not None
    broker: LocalBroker = request.getfixturevalue("module_broker" if own else "session_broker")
    return broker


@pytest.fixture(scope="module")
def kafka_bootstrap(kafka_broker: LocalBroker) -> str:
    """``host:port`` of the module's Kafka broker."""
    return kafka_broker.bootstrap


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A broker of one module's own, on free ports: for tests that put records on topics
    every world on the session's broker shares (a changelog with a record no gateway wrote
    stops the next worker's table recovery). A module gets it as ``kafka_broker`` (and its
    ``kafka_admin``) by carrying ``pytest.mark.own_broker`` in its ``pytestmark``."""
    broker = LocalBroker(tmp_path_factory.mktemp("kafka"), port=free_port_pair(), verbose=False)
    try:
        broker.start(timeout=120)
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def kafka_admin(kafka_broker: LocalBroker) -> KafkaClients:
    """Clients of the module broker's admin (its own principal, the only super user): the
    tests' observer. Gateway processes use the principals `a6gw kafka provision` makes."""
    return kafka_broker.clients()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``own_broker`` is a module's choice: its broker fixtures are module-scoped."""
    for item in items:
        module = item.getparent(pytest.Module)
        if item.get_closest_marker("own_broker") and not (
            module and module.get_closest_marker("own_broker")
        ):
            raise pytest.UsageError(f"{item.nodeid}: put own_broker in the module's pytestmark")


# -- PostgreSQL -------------------------------------------------------------------------------
#
# Postgres-backed tests ask for ``postgres_database`` (a fresh, empty database per test; dropped
# afterwards) or ``postgres_dsn`` (the session's database) and carry ``@pytest.mark.postgres``.
# One private cluster (gateway.pg.LocalPostgres) is started per session, on demand, on port
# 15432 (``A6GW_TEST_PG_PORT`` moves it) with its root in ``$TMPDIR/a6gw-test-pg-<uid>/<port>``
# (``A6GW_TEST_PG_DIR``), wiped at the start of each session: under /tmp so that, when the tests
# run as root, the ``postgres`` system user the server runs as can reach it. A lock file per
# port keeps concurrent sessions (and pytest-xdist workers) apart; durability is off (fsync)
# because the cluster is thrown away.

TEST_PG_PORT = int(os.environ.get("A6GW_TEST_PG_PORT", "15432"))
_PG_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _claim_postgres_slot() -> tuple[LocalPostgres, IO[str]]:
    """Lock the first free (port, root) slot; clean up what a dead session left there."""
    default = Path(tempfile.gettempdir()) / f"a6gw-test-pg-{os.getuid()}"
    base = Path(os.environ.get("A6GW_TEST_PG_DIR") or default)
    base.mkdir(mode=0o755, parents=True, exist_ok=True)
    for slot in range(_SLOTS):
        port = TEST_PG_PORT + slot
        lock = (base / f"{port}.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another live pytest session uses this slot
            lock.close()
            continue
        server = LocalPostgres(base / str(port), port, settings=_PG_SETTINGS)
        server.wipe()  # also stops a server left behind by an interrupted session
        if ports_free(port):
            return server, lock
        lock.close()  # something else listens there
    pytest.fail(f"no free PostgreSQL test port in {TEST_PG_PORT}..+{_SLOTS}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """One real PostgreSQL server for the whole session, on a fresh cluster; stopped at the end."""
    server, lock = _claim_postgres_slot()
    try:
        server.start(timeout=120)
        yield server
    finally:
        server.stop()
        lock.close()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: LocalPostgres) -> str:
    """The URL of the session's database (shared by every test that asks for it)."""
    return postgres_server.dsn


@pytest.fixture
def postgres_database(postgres_server: LocalPostgres) -> Iterator[str]:
    """The URL of a fresh, empty database for this test only; dropped after it."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    dsn = postgres_server.create_database(name)
    try:
        yield dsn
    finally:
        postgres_server.drop_database(name)
