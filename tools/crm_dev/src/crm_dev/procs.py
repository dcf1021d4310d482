"""Process supervision: children in their own process groups, output to log files, orderly stop.

Each child is started with ``start_new_session=True`` (so its pid is its process group id and a
terminal Ctrl-C reaches only us); stopping sends SIGTERM to every group, waits up to ``grace``
seconds, then SIGKILLs whatever is left of each group (grandchildren included).
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from io import FileIO
from pathlib import Path

STOP_GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., object] | None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()


def _in_child() -> None:
    """In the forked child: get SIGTERM if we die without stopping it (e.g. SIGKILL of crm-dev)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)
_HEADER = "====="


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path | None
    expected_exit: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def group_alive(self) -> bool:
        """Whether any process of the child's group is still there (the leader may be gone)."""
        self.proc.poll()  # reap the leader if it exited
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def tail(path: Path | None, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' if there is none)."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 64 * 1024))
        data = fh.read().decode("utf-8", "replace")
    text = data.splitlines()
    # Only the latest run: from the last "===== <time> start:" header that spawn() writes.
    for i in range(len(text) - 1, -1, -1):
        if text[i].startswith(_HEADER):
            text = text[i:]
            break
    return "\n".join(text[-lines:])


def _open_log(log: Path | None, argv: Sequence[str]) -> int | FileIO:
    if log is None:
        return subprocess.DEVNULL
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = log.open("ab", buffering=0)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    fh.write(f"\n{_HEADER} {stamp} start: {' '.join(map(str, argv))}\n".encode())
    return fh


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
) -> Child:
    """Start ``argv`` in its own process group, stdout and stderr appended to ``log``."""
    out = _open_log(log, argv)
    try:
        proc = subprocess.Popen(
            list(map(str, argv)),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_in_child,
        )
    finally:
        if isinstance(out, FileIO):  # not subprocess.DEVNULL
            out.close()
    return Child(name, proc, log)


def stop(children: Sequence[Child], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every child's process group, wait up to ``grace`` s in all, then SIGKILL the rest."""
    for child in children:
        _killpg(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    pending = [c for c in children if c.group_alive()]
    while pending and time.monotonic() < deadline:
        time.sleep(0.05)
        pending = [c for c in pending if c.group_alive()]
    for child in pending:
        _killpg(child, signal.SIGKILL)
    for child in children:
        try:
            child.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
            pass
    # The leader is reaped; members of its group that were SIGKILLed vanish with it.
    end = time.monotonic() + 5
    while any(c.group_alive() for c in children) and time.monotonic() < end:
        time.sleep(0.05)


def _killpg(child: Child, sig: int) -> None:
    try:
        os.killpg(child.proc.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:  # pragma: no cover - the pgid was reused by someone else
        pass


class Supervisor:
    """The children started by one command, stopped together in reverse start order."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log: Path | None = None,
    ) -> Child:
        child = spawn(name, argv, env=env, cwd=cwd, log=log)
        self.children.append(child)
        return child

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log: Path | None = None,
    ) -> int:
        """Run a short-lived child to completion (stoppable like the others); its exit code."""
        child = self.spawn(name, argv, env=env, cwd=cwd, log=log)
        child.expected_exit = True
        try:
            return child.proc.wait(timeout=timeout)
        finally:
            if child.alive():
                stop([child])
            self.children.remove(child)

    def dead(self) -> Child | None:
        """The first long-running child that has exited, if any."""
        for child in self.children:
            if not child.expected_exit and not child.alive():
                return child
        return None

    def stop_all(self, grace: float = STOP_GRACE_SECONDS) -> None:
        children = list(reversed(self.children))
        self.children.clear()
        stop(children, grace)


# ------------------------------------------------------------------------------------------------
# ports


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``port`` is taken on ``host``: something listens, or it cannot be bound."""
    if port_open(host, port, timeout=0.3):
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]  # (host, port) for AF_INET
        return port


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    child: Child | None = None,
    what: str = "",
) -> None:
    """Poll ``predicate()`` until true; raise if ``child`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if child is not None and not child.alive():
            raise ChildDied(child)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what or 'condition'} not met after {timeout:.0f} s")
        time.sleep(0.1)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """Whether ``GET url`` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status  # typeshed types urlopen()'s result as Any
            return status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_http(url: str, *, timeout: float, child: Child | None = None) -> None:
    """Wait until ``GET url`` answers 200; raise ChildDied if ``child`` exits first."""
    wait_for(functools.partial(http_ok, url), timeout=timeout, child=child,
             what=f"GET {url} = 200")


class ChildDied(RuntimeError):
    def __init__(self, child: Child) -> None:
        self.child = child
        super().__init__(f"{child.name} exited with code {child.proc.returncode}")
