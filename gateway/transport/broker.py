"""A real single-node Apache Kafka broker (KRaft, broker+controller) run from Maven jars.

``broker_files/pom.xml`` (package data beside this module) pins the broker;
:meth:`LocalBroker.fetch` has Maven copy its jars once into a cache. The broker runs detached
(own session) and keeps everything in its state dir: ``server.properties`` (rendered from
``broker_files/``), ``data/`` (log.dirs), ``server.log`` (INFO+), ``broker.out`` (JVM output,
WARN+), ``broker.pid``, ``admin.json`` (the credentials of the broker's own principal, the only
super user: generated once, 0600). Every client authenticates with SASL/SCRAM-SHA-512 and the
standard authorizer applies ACLs (``gateway.transport.acls``). Defaults (explicit arguments
win): state dir ``$A6GW_KAFKA_DIR`` or ``./.a6gw/kafka``; port ``$A6GW_KAFKA_PORT`` or 19092
(controller: +1); jar cache ``$A6GW_KAFKA_JARS`` or ``~/.cache/a6gw/kafka-<version>``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from subprocess import DEVNULL, STDOUT, Popen
from typing import Any

from gateway.errors import BrokerError, ConfigError
from gateway.transport.admin import probe_broker
from gateway.transport.clients import Credentials, KafkaClients
from gateway.transport.sizes import largest_record

KAFKA_VERSION = "4.1.1"
DEFAULT_PORT = 19092
HOST = "127.0.0.1"
FETCH_MARKER = ".a6gw-fetched.json"
STATE_MARKER = ".a6gw-kafka-state"
ADMIN_FILE = "admin.json"
ADMIN_USER = "broker"
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)@")


def packaged_files() -> Path:
    """The directory of the broker's files shipped in the package: ``pom.xml`` (the jars),
    ``server.properties`` (template) and ``log4j2.properties``. Maven and the JVM read them
    by path, so the package must be installed as files (as pip installs a wheel), not zipped."""
    root = resources.files(__package__ or "gateway.transport") / "broker_files"
    if not isinstance(root, Path) or not (root / "pom.xml").is_file():
        msg = f"the broker's files are not installed as files in the package ({root})"
        raise BrokerError(msg, code="KAFKA-CONFIG")
    return root


@dataclass(frozen=True)
class BrokerStatus:
    """Snapshot of the local broker. ``running`` means alive *and* answering Kafka requests."""

    running: bool
    pid: int | None
    bootstrap: str
    state_dir: Path
    data_dir: Path
    version: str

    def describe(self) -> str:
        if self.running:
            head = f"running at {self.bootstrap} (pid {self.pid})"
        elif self.pid is not None:
            head = f"process {self.pid} alive but not answering on {self.bootstrap}"
        else:
            head = f"not running (would listen on {self.bootstrap})"
        return f"Kafka {self.version} {head}; data dir {self.data_dir}"

    __str__ = describe


def _find_tool(name: str, code: str) -> str:
    if (found := shutil.which(name)) is None:
        need = "a JDK 17+ (e.g. openjdk-17-jdk-headless)" if name == "java" else "Apache Maven"
        raise BrokerError(f"'{name}' not found on PATH; install {need}", code=code)
    return found


def _run(cmd: list[str], code: str, what: str, timeout: float) -> None:
    """Run a tool to completion; BrokerError with the tail of its output if it fails."""
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerError(f"{what} failed: {exc}", code=code) from exc
    if res.returncode != 0:
        tail = "\n".join((res.stdout + res.stderr).splitlines()[-40:])
        raise BrokerError(f"{what} failed (exit {res.returncode}):\n{tail}", code=code)


def _tail(path: Path, lines: int, offset: int = 0) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    text = data[offset if offset <= len(data) else 0 :].decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _env_port(value: int | None) -> int:
    raw = value if value is not None else os.environ.get("A6GW_KAFKA_PORT", DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError as exc:
        raise BrokerError(f"Kafka port is not a number: {raw!r}", code="KAFKA-CONFIG") from exc
    if not 1 <= port <= 65534:
        raise BrokerError(f"Kafka port {port} is out of range", code="KAFKA-CONFIG")
    return port


class LocalBroker:
    """Fetch, format, start, stop and inspect one local Kafka broker."""

    main_class = "kafka.Kafka"
    node_id = 1

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        jar_dir: str | os.PathLike[str] | None = None,
        version: str = KAFKA_VERSION,
        files_dir: str | os.PathLike[str] | None = None,
        heap: tuple[str, str] = ("512m", "1g"),
        verbose: bool = True,
    ) -> None:
        state = state_dir or os.environ.get("A6GW_KAFKA_DIR") or Path.cwd() / ".a6gw" / "kafka"
        self.state_dir = Path(state).expanduser().absolute()
        self.port = _env_port(port)
        cport = self.port + 1 if controller_port is None else controller_port
        self.controller_port = _env_port(cport)
        self.version = version
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        jars = jar_dir or os.environ.get("A6GW_KAFKA_JARS") or cache / "a6gw" / f"kafka-{version}"
        self.jar_dir = Path(jars).expanduser().absolute()
        self.files_dir = Path(files_dir).absolute() if files_dir else packaged_files()
        self.heap, self.verbose = heap, verbose
        self.data_dir = self.state_dir / "data"
        self.properties_path = self.state_dir / "server.properties"
        self.pid_path = self.state_dir / "broker.pid"
        self.log_path = self.state_dir / "server.log"
        self.out_path = self.state_dir / "broker.out"
        self.admin_path = self.state_dir / ADMIN_FILE
        self._proc: Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def admin_credentials(self) -> Credentials:
        """The broker's own principal (the only super user); generated 0600 on first use."""
        if self.admin_path.exists():
            try:
                return Credentials.load(self.admin_path)
            except ConfigError as exc:
                raise BrokerError(str(exc.args[0]), code="KAFKA-CONFIG") from exc
        creds = Credentials(ADMIN_USER, secrets.token_urlsafe(24))
        try:
            creds.save(self.admin_path)
        except OSError as exc:
            msg = f"cannot write {self.admin_path}: {exc}"
            raise BrokerError(msg, code="KAFKA-CONFIG") from exc
        return creds

    def clients(self) -> KafkaClients:
        """Clients authenticated as the broker's own principal (topics, users, ACLs)."""
        largest = largest_record(8 * 1024 * 1024)  # any topic of any config
        creds = self.admin_credentials()
        return KafkaClients(
            self.bootstrap, creds, max_record_bytes=largest, client_id="a6gw-broker"
        )

    def _say(self, message: str) -> None:
        if self.verbose:
            print(f"a6gw kafka: {message}", file=sys.stderr, flush=True)

    def is_fetched(self) -> bool:
        """True if the jar cache holds a complete fetch for this version and this pom.xml."""
        try:
            stamp = json.loads((self.jar_dir / FETCH_MARKER).read_text())
            digest = hashlib.sha256((self.files_dir / "pom.xml").read_bytes()).hexdigest()
        except (OSError, ValueError):
            return False
        got = (stamp.get("version"), stamp.get("pom_sha256")) if isinstance(stamp, dict) else ()
        return got == (self.version, digest)

    def fetch(self) -> Path:
        """Copy the broker's runtime jars into :attr:`jar_dir` with Maven (once)."""
        if self.is_fetched():
            return self.jar_dir
        mvn = _find_tool("mvn", "KAFKA-FETCH")
        pom = self.files_dir / "pom.xml"
        try:
            digest = hashlib.sha256(pom.read_bytes()).hexdigest()
            self.jar_dir.parent.mkdir(parents=True, exist_ok=True)
            lock = (self.jar_dir.parent / f"{self.jar_dir.name}.lock").open("w")
        except OSError as exc:
            raise BrokerError(f"cannot prepare the jar cache: {exc}", code="KAFKA-FETCH") from exc
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching the same version
            if self.is_fetched():
                return self.jar_dir
            tmp = self.jar_dir.with_name(f"{self.jar_dir.name}.partial-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            cmd = [mvn, "-B", "-q", "-f", str(pom), f"-Dkafka.version={self.version}"]
            cmd += ["dependency:copy-dependencies", "-DincludeScope=runtime"]
            self._say(f"fetching Kafka {self.version} jars with Maven into {self.jar_dir} ...")
            started = time.monotonic()
            try:
                cmd.append(f"-DoutputDirectory={tmp}")
                _run(cmd, "KAFKA-FETCH", f"mvn fetching Kafka {self.version}", timeout=900)
                jars = sorted(tmp.glob("*.jar"))
                if not (tmp / f"kafka_2.13-{self.version}.jar").exists():
                    raise BrokerError("mvn delivered no Kafka jar", code="KAFKA-FETCH")
                stamp = {"version": self.version, "pom_sha256": digest, "jars": len(jars)}
                (tmp / FETCH_MARKER).write_text(json.dumps(stamp) + "\n")
                if (self.jar_dir / FETCH_MARKER).exists():  # a stale fetch of ours
                    shutil.rmtree(self.jar_dir)
                tmp.rename(self.jar_dir)  # fails if a foreign non-empty directory is in the way
            except OSError as exc:
                raise BrokerError(f"cannot fill {self.jar_dir}: {exc}", code="KAFKA-FETCH") from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            size = sum(j.stat().st_size for j in self.jar_dir.glob("*.jar")) / 1e6
            self._say(
                f"fetched {len(jars)} jars ({size:.1f} MB) in {time.monotonic() - started:.0f}s"
            )
        return self.jar_dir

    def render_properties(self) -> str:
        """The server.properties template with this broker's ports and data dir filled in."""
        template = self.files_dir / "server.properties"
        try:
            text = template.read_text()
        except OSError as exc:
            raise BrokerError(f"cannot read {template}: {exc}", code="KAFKA-CONFIG") from exc
        admin = self.admin_credentials()
        values = {
            "ADMIN_USER": admin.username,
            "ADMIN_PASSWORD": admin.password,
            "NODE_ID": str(self.node_id),
            "PORT": str(self.port),
            "CONTROLLER_PORT": str(self.controller_port),
            "LOG_DIRS": str(self.data_dir),
        }

        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise BrokerError(f"unknown {match.group(0)} in {template}", code="KAFKA-CONFIG")
            return values[match.group(1)]

        lines = [
            line if line.lstrip().startswith("#") else _PLACEHOLDER.sub(fill, line)
            for line in text.splitlines()
        ]
        return (
            f"# generated from {template} by gateway/transport/broker.py\n"
            + "\n".join(lines)
            + "\n"
        )

    def _prepare_state_dir(self) -> None:
        marker = self.state_dir / STATE_MARKER
        try:
            if not marker.exists() and any(self.state_dir.glob("*")):
                raise OSError("not empty and not an a6gw Kafka state dir")
            self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.data_dir.mkdir(parents=True, exist_ok=True)
            marker.touch()
            fd = os.open(self.properties_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:  # it holds the admin password
                out.write(self.render_properties())
        except OSError as exc:
            raise BrokerError(f"cannot use {self.state_dir}: {exc}", code="KAFKA-CONFIG") from exc

    def _java_cmd(self, java: str, main: str, *args: str) -> list[str]:
        log4j = f"-Dlog4j2.configurationFile={self.files_dir / 'log4j2.properties'}"
        opts = [log4j, f"-Dkafka.logs.dir={self.state_dir}", "-Djava.awt.headless=true"]
        return [java, *opts, "-cp", str(self.jar_dir / "*"), main, *args]

    def format_storage(self) -> bool:
        """Fetch jars, write server.properties, format storage once; False if already done."""
        self.fetch()
        self._prepare_state_dir()
        if (self.data_dir / "meta.properties").exists():
            return False
        java = _find_tool("java", "KAFKA-FORMAT")
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")  # = random-uuid
        args = ["format", f"--cluster-id={cluster_id}", "-c", str(self.properties_path)]
        admin = self.admin_credentials()  # a broker formatted with no SCRAM user admits nobody
        args += ["--add-scram", f"SCRAM-SHA-512=[name={admin.username},password={admin.password}]"]
        cmd = self._java_cmd(java, "kafka.tools.StorageTool", *args, "--ignore-formatted")
        _run(cmd, "KAFKA-FORMAT", "formatting the Kafka storage (StorageTool)", timeout=120)
        self._say(f"formatted KRaft storage in {self.data_dir}")
        return True

    def _alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None  # our child: poll() also reaps it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        with contextlib.suppress(OSError, IndexError):  # a zombie is not alive
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        return True

    def _owned(self, pid: int) -> bool:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return True  # no /proc (macOS): trust the pid file
        return self.main_class.encode() in args and str(self.properties_path).encode() in args

    def _running_pid(self) -> int | None:
        """The broker's pid if the pid file names a live broker process; clears stale files."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid > 0 and self._alive(pid) and self._owned(pid):
            return pid
        self.pid_path.unlink(missing_ok=True)
        return None

    def is_answering(self, timeout: float = 2.0) -> bool:
        """True if a Kafka broker on :attr:`port` answers ApiVersions and, to its admin
        principal (a SASL listener cuts off an unauthenticated request), Metadata."""
        try:
            if not probe_broker(HOST, self.port, timeout=timeout, metadata=False).ready:
                return False
        except (OSError, ValueError):
            return False
        if not self.admin_path.exists():
            return False
        return asyncio.run(self._metadata_ready(timeout))

    async def _metadata_ready(self, timeout: float) -> bool:
        from aiokafka.errors import KafkaError

        ms = max(1000, int(timeout * 1000))
        admin = self.clients().admin(request_timeout_ms=ms, connections_max_idle_ms=ms * 5)
        try:
            await asyncio.wait_for(admin.start(), timeout)
            return bool(admin._client.cluster.brokers())  # noqa: SLF001 - no public accessor
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            with contextlib.suppress(KafkaError, OSError, TimeoutError):
                await admin.close()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the JVM output and of server.log (from the current run)."""
        sources = ((self.out_path, 20, 0), (self.log_path, lines, self._log_offset))
        tails = [(path, _tail(path, count, offset)) for path, count, offset in sources]
        parts = [f"--- last lines of {path} ---\n{text}" for path, text in tails if text.strip()]
        return "\n".join(parts) or "(the broker wrote no log output)"

    def _check_ports_free(self) -> None:
        for port in (self.port, self.controller_port):
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((HOST, port))
                except OSError as exc:
                    msg = f"{HOST}:{port} is in use (another broker? see 'a6gw kafka status')"
                    raise BrokerError(msg, code="KAFKA-START") from exc

    def _launch(self) -> int:
        self._check_ports_free()
        java = _find_tool("java", "KAFKA-START")
        self.format_storage()
        cmd = self._java_cmd(java, self.main_class, str(self.properties_path))
        cmd[1:1] = [f"-Xms{self.heap[0]}", f"-Xmx{self.heap[1]}", "-XX:+UseG1GC"]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        detach: dict[str, Any] = {"cwd": self.state_dir, "start_new_session": True}
        try:
            with self.out_path.open("wb") as out:
                self._proc = Popen(cmd, stdin=DEVNULL, stdout=out, stderr=STDOUT, **detach)
            self.pid_path.write_text(f"{self._proc.pid}\n")
        except OSError as exc:
            raise BrokerError(f"cannot launch the Kafka JVM: {exc}", code="KAFKA-START") from exc
        self._say(f"started Kafka {self.version} (pid {self._proc.pid}); waiting for it ...")
        return self._proc.pid

    def start(self, timeout: float = 90.0) -> BrokerStatus:
        """Fetch, format and start the broker; wait until it answers. Idempotent."""
        pid = self._running_pid()
        if pid is None:
            pid = self._launch()
        elif self.is_answering():
            return self.status()
        else:
            self._say(f"Kafka process {pid} exists but is not answering yet; waiting ...")
        started = time.monotonic()
        while not self.is_answering():
            if not self._alive(pid):
                self.pid_path.unlink(missing_ok=True)
                rc = self._proc.returncode if self._proc and self._proc.pid == pid else "?"
                msg = f"the Kafka broker exited during startup (exit code {rc}):"
                raise BrokerError(f"{msg}\n{self.log_tail()}", code="KAFKA-START")
            if time.monotonic() - started > timeout:
                tail = self.log_tail()
                with contextlib.suppress(BrokerError):
                    self.stop()
                msg = f"the Kafka broker did not answer on {self.bootstrap} within {timeout:.0f}s"
                raise BrokerError(f"{msg} (stopped it):\n{tail}", code="KAFKA-START")
            time.sleep(0.2)
        self._say(f"Kafka answers on {self.bootstrap} after {time.monotonic() - started:.1f}s")
        return self.status()

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the broker's process group, SIGKILL after ``timeout``. False if not running."""
        pid = self._running_pid()
        if pid is None and self._proc is not None and self._proc.poll() is None:
            pid = self._proc.pid  # our own child, even if its pid file was removed
        if pid is None:
            return False
        try:
            kill = os.killpg if os.getpgid(pid) == pid else os.kill
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
                kill(pid, sig)
                deadline = time.monotonic() + wait
                while self._alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if not self._alive(pid):
                    break
                self._say(f"Kafka pid {pid} still alive {wait:.0f}s after {sig.name}")
            else:
                raise BrokerError(f"Kafka pid {pid} survived SIGKILL", code="KAFKA-STOP")
        except ProcessLookupError:
            pass  # it exited on its own meanwhile
        except PermissionError as exc:
            raise BrokerError(f"cannot signal pid {pid}: {exc}", code="KAFKA-STOP") from exc
        self.pid_path.unlink(missing_ok=True)
        self._proc = None
        self._say(f"stopped Kafka (pid {pid})")
        return True

    def status(self) -> BrokerStatus:
        pid = self._running_pid()
        running = pid is not None and self.is_answering()
        paths = (self.bootstrap, self.state_dir, self.data_dir)
        return BrokerStatus(running, pid, *paths, self.version)

    def wipe(self) -> None:
        """Stop the broker and delete its state dir (data, logs, config) for a fresh start."""
        self.stop()
        try:
            if not (self.state_dir / STATE_MARKER).exists() and any(self.state_dir.glob("*")):
                raise OSError("refusing: not an a6gw Kafka state dir")
            shutil.rmtree(self.state_dir)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise BrokerError(f"cannot wipe {self.state_dir}: {exc}", code="KAFKA-CONFIG") from exc
