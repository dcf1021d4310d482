"""Process supervision and the server checks (fast; no real server is started)."""

from __future__ import annotations

import os
import sys

import pytest

from crm_dev import infra, procs


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_stop_takes_down_the_whole_process_group(tmp_path):
    log = tmp_path / "x.log"
    # (the log's header line holds the command, so the markers are spelled differently there)
    # The shell starts a grandchild; both must go.
    child = procs.spawn("x", ["sh", "-c", "sleep 60 & echo sta''rted; wait"], log=log)
    procs.wait_for(lambda: "started" in log.read_text(), timeout=10, child=child)
    procs.stop([child], grace=5)
    assert not child.alive()
    assert not child.group_alive()


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    log = tmp_path / "stubborn.log"
    code = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('rea' + 'dy', flush=True); time.sleep(60)")
    child = procs.spawn("stubborn", [sys.executable, "-c", code], log=log)
    procs.wait_for(lambda: "ready" in log.read_text(), timeout=10, child=child)
    procs.stop([child], grace=0.3)
    assert _gone(child.pid)
    assert child.proc.returncode == -9


def test_supervisor_reports_a_dead_child_and_the_tail_shows_only_the_latest_run(tmp_path):
    log = tmp_path / "svc.log"
    supervisor = procs.Supervisor()
    assert supervisor.run("first", ["sh", "-c", "echo old run"], log=log) == 0
    child = supervisor.spawn("svc", ["sh", "-c", "echo boom; exit 3"], log=log)
    child.proc.wait(timeout=10)
    assert supervisor.dead() is child
    text = procs.tail(log)
    assert "boom" in text and "old run" not in text
    supervisor.stop_all()
    assert supervisor.children == []


def test_wait_for_raises_when_the_child_dies_first(tmp_path):
    child = procs.spawn("quick", ["sh", "-c", "exit 1"], log=tmp_path / "q.log")
    with pytest.raises(procs.ChildDied):
        procs.wait_for(lambda: False, timeout=10, child=child)


def test_port_helpers():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert procs.port_open("127.0.0.1", port)
        assert procs.port_in_use(port)
    free = procs.free_port()
    assert not procs.port_in_use(free)


def test_unreachable_servers_fail_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(infra.procs, "port_open", lambda *a, **k: False)
    monkeypatch.setattr(infra.shutil, "which", lambda name: None)
    monkeypatch.setattr(infra, "_wait_port", lambda *a, **k: False)
    with pytest.raises(infra.InfraError, match=r"PostgreSQL is not reachable at 127\.0\.0\.1:5432"):
        infra.ensure_postgres(say=lambda m: None)
    with pytest.raises(infra.InfraError, match=r"RabbitMQ is not reachable at 127\.0\.0\.1:5672"):
        infra.ensure_rabbitmq(say=lambda m: None)


def test_children_get_sigterm_when_the_supervisor_is_killed(tmp_path):
    """Even a SIGKILLed ``crm-dev`` leaves no child behind (PR_SET_PDEATHSIG on Linux)."""
    import signal
    import subprocess

    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    pid_file = tmp_path / "child.pid"
    parent_code = (
        "import sys, time; from pathlib import Path; from crm_dev import procs; "
        f"c = procs.spawn('sleeper', ['sleep', '60'], log=Path({str(tmp_path / 's.log')!r})); "
        f"Path({str(pid_file)!r}).write_text(str(c.pid)); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        procs.wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=20)
        child_pid = int(pid_file.read_text())
        assert not _gone(child_pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    procs.wait_for(lambda: _gone(child_pid) or _zombie(child_pid), timeout=10,
                   what="the orphan to exit")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
