"""``./crm test``: the whole suite against real servers (DESIGN §8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from crm_dev import infra, mongo, procs
from crm_dev.tokens import ensure_keys

#: Every folder of the workspace that holds tests.
TEST_ROOTS = ("libs", "services", "tools", "tests")

PYTEST_NO_TESTS_COLLECTED = 5


def exit_code(pytest_code: int) -> int:
    """Our exit code for pytest's: 5 (no test collected) is a failure too; the rest as is."""
    return 1 if pytest_code == PYTEST_NO_TESTS_COLLECTED else pytest_code


def pytest_argv(root: Path, extra: Sequence[str]) -> list[str]:
    """``python -m pytest`` over every test folder, unless ``extra`` names paths of its own."""
    names_paths = any(
        not arg.startswith("-") and (root / arg.split("::")[0]).exists() for arg in extra
    )
    folders = [] if names_paths else [d for d in TEST_ROOTS if (root / d).is_dir()]
    return [sys.executable, "-m", "pytest", *folders, *extra]


class _Terminated(Exception):
    pass


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated()


def run(root: Path, extra: Sequence[str]) -> int:
    try:
        infra.ensure_servers(lambda m: print(f"crm test: {m}", flush=True))
        ensure_keys(root)
    except infra.InfraError as exc:
        print(f"crm test: {exc}", file=sys.stderr)
        return 1
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix="crm-test-mongo-") as tmp:
            log = Path(tmp) / "nx-27017.log"
            try:
                server = mongo.start(Path(tmp) / "data", log=log)
            except (procs.ChildDied, TimeoutError, OSError) as exc:
                print(f"crm test: the MongoDB-wire server did not start: {exc}\n"
                      f"{procs.tail(log, 30)}", file=sys.stderr)
                return 1
            try:
                env = {**os.environ, "MONGODB_URL": server.url}
                argv = pytest_argv(root, extra)
                # Same process group as us: a terminal Ctrl-C reaches pytest directly.
                proc = subprocess.Popen(argv, cwd=root, env=env)
                try:
                    code = proc.wait()
                except (KeyboardInterrupt, _Terminated):
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                    return 130
            finally:
                server.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code == PYTEST_NO_TESTS_COLLECTED:
        print("crm test: no test ran (pytest collected nothing)", file=sys.stderr)
    return exit_code(code)
