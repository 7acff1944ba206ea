"""Run the worker as a child process and stop it reliably (used by the demo and tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from gateway.errors import WorkerError
from gateway.worker.exits import describe


class WorkerProcess:
    """``a6gw worker --config CONFIG`` in its own process group, logging to a file."""

    def __init__(
        self,
        config: Path,
        log_path: Path,
        *,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.log_path = log_path
        self.extra_args = extra_args
        #: variables added to this process's environment for the worker (tests inject faults)
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        cmd = [
            sys.executable,
            "-m",
            "gateway",
            "worker",
            "--config",
            str(self.config),
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **self.env},
        )
        log.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        """:raises WorkerError: (WORKER-EXIT) if the worker has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise WorkerError(
                f"the worker exited ({describe(self.proc.returncode)})", code="WORKER-EXIT"
            )

    def children(self) -> list[int]:
        """The pids of the supervisor's worker processes (``--processes N``; from /proc)."""
        if self.proc is None or not self.alive():
            return []
        pids: list[int] = []
        try:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            return []
        return sorted(pids)

    def kill_child(self, pid: int) -> None:
        """SIGKILL one of the supervisor's worker processes (it starts it again)."""
        if pid in self.children():
            os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash, for fault tests)."""
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, wait, then SIGKILL what is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass

    def crashes(self) -> list[str]:
        """Agent crashes the worker logged (faust restarts a crashed agent and goes on)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if "Crashed reason=" in line]

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no worker log)"
        return "--- worker log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])
