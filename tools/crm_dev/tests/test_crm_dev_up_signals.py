"""``./crm up``'s signals and ``./crm down``, with real processes (issue 14).

The child runs ``crm_dev.up.run`` itself, with only the slow parts replaced (the servers, the
services and the gateway): what starts is one long-running child through the real supervisor,
so that "everything stopped" means that child is gone too. ``say`` pauses on the shutdown line,
so that a second signal lands while the first one is being handled (where a traceback used to
come from).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_dev import up

#: every process a test started (the fake ups and their sleepers), killed at its end whatever
#: happened: a test that fails must not leave them running
STARTED: list[int] = []


@pytest.fixture(autouse=True)
def _kill_leftovers():
    yield
    while STARTED:
        pid = STARTED.pop()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

CHILD = r"""
import sys, time
from pathlib import Path
from crm_dev import infra, up

root = Path(sys.argv[1])
up.check_ports = lambda port: None
infra.ensure_servers = lambda say: None
up.ensure_keys = lambda root: None
real_say = up.say

def say(message=""):
    real_say(message)
    if "crm up: got" in message or "interrupted" in message:
        time.sleep(0.5)  # a second signal arrives while the first is handled

up.say = say

def start_and_watch(root, supervisor, port):
    sleeper = supervisor.spawn("sleeper", ["sleep", "300"], log=root / "sleeper.log")
    (root / "sleeper.pid").write_text(str(sleeper.pid))
    real_say("crm up: ready")
    while True:
        time.sleep(0.05)

up._start_and_watch = start_and_watch
sys.exit(up.run(root))
"""


def _start(root: Path, *, ignore_sigint: bool) -> subprocess.Popen[str]:
    def ignore() -> None:
        if ignore_sigint:  # as a non-interactive shell starts a background job
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=ignore)
    STARTED.append(proc.pid)
    deadline = time.monotonic() + 20
    while not (root / "sleeper.pid").exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the fake up did not start"
        time.sleep(0.05)
    time.sleep(0.05)  # the pid is written
    STARTED.append(int((root / "sleeper.pid").read_text()))
    return proc


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _finish(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"`up` did not stop:\n{out}") from None
    return out


def test_sigint_stops_up_even_when_started_in_the_background(tmp_path: Path) -> None:
    proc = _start(tmp_path, ignore_sigint=True)
    sleeper = int((tmp_path / "sleeper.pid").read_text())
    proc.send_signal(signal.SIGINT)
    out = _finish(proc)
    assert proc.returncode == 0, out
    assert "got SIGINT, stopping" in out and "everything stopped" in out
    assert "Traceback" not in out
    assert _gone(sleeper)


def test_a_second_signal_during_shutdown_prints_no_traceback(tmp_path: Path) -> None:
    for first, second in ((signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGINT),
                          (signal.SIGINT, signal.SIGTERM)):
        (tmp_path / "sleeper.pid").unlink(missing_ok=True)
        proc = _start(tmp_path, ignore_sigint=False)
        sleeper = int((tmp_path / "sleeper.pid").read_text())
        proc.send_signal(first)
        time.sleep(0.2)  # inside the shutdown line's pause
        proc.send_signal(second)
        out = _finish(proc)
        assert proc.returncode == 0, out
        assert "Traceback" not in out, out
        assert "everything stopped" in out
        assert _gone(sleeper)


def test_down_stops_a_running_up_from_another_process(tmp_path: Path, capsys) -> None:
    proc = _start(tmp_path, ignore_sigint=True)
    sleeper = int((tmp_path / "sleeper.pid").read_text())
    assert up.down(tmp_path, timeout=30) == 0
    assert proc.wait(timeout=5) == 0
    out = _finish(proc)
    assert "got SIGTERM, stopping" in out and "Traceback" not in out
    assert _gone(sleeper)
    said = capsys.readouterr().out
    assert f"stopping `./crm up` (pid {proc.pid})" in said and "everything stopped" in said
    # nothing running any more: says so, exit code 0
    assert up.down(tmp_path) == 0
    assert "no `./crm up` is running" in capsys.readouterr().out


def test_down_without_any_up(tmp_path: Path, capsys) -> None:
    assert up.down(tmp_path) == 0
    assert "no `./crm up` is running" in capsys.readouterr().out
    # a stale lock file (an up that was killed -9) holds a pid but no lock
    run = tmp_path / ".crm" / "run"
    run.mkdir(parents=True)
    (run / "up.lock").write_text("999999")
    assert up.down(tmp_path) == 0
    assert "no `./crm up` is running" in capsys.readouterr().out
