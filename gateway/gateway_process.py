"""Start, wait for and stop the Hive Gateway as a child process (standard library only).

For the developer tooling (``./crm up``) and the end-to-end tests. The gateway directory is not a
Python package; load this file by path::

    import importlib.util, pathlib
    path = pathlib.Path(ROOT, "gateway", "gateway_process.py")
    spec = importlib.util.spec_from_file_location("gateway_process", path)
    gateway_process = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gateway_process)

    proc = gateway_process.start_gateway(
        port=4000, env={"JWT_PUBLIC_KEY_FILE": ".crm/keys/jwt_public.pem"})
    gateway_process.wait_ready(proc, port=4000)       # GET /readiness -> 200
    ...
    gateway_process.stop_gateway(proc)

Requires ``npm ci`` to have been run in gateway/ (``node_modules/.bin/hive-gateway`` must exist).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

GATEWAY_DIR = Path(__file__).resolve().parent
HIVE_GATEWAY_BIN = GATEWAY_DIR / "node_modules" / ".bin" / "hive-gateway"
CONFIG_FILE = GATEWAY_DIR / "gateway.config.ts"

# Variables the hive-gateway CLI itself reads and that would override gateway.config.ts (PORT, HOST,
# ...), or that crash it (LOG_LEVEL must be lower-case for the CLI's logger): they are dropped or
# normalised so that the GATEWAY_* variables decide.
_CLI_ENV_OVERRIDES = ("PORT", "HOST", "CONFIG_PATH", "FORK", "POLLING")


def gateway_command() -> list[str]:
    """The exact command line; run it with any working directory."""
    return [str(HIVE_GATEWAY_BIN), "supergraph", "--config-path", str(CONFIG_FILE)]


def gateway_env(port: int | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The gateway's environment: os.environ + ``env`` (+ GATEWAY_PORT), cleaned for the CLI."""
    merged = dict(os.environ)
    merged.update(env or {})
    if port is not None:
        merged["GATEWAY_PORT"] = str(port)
    for name in _CLI_ENV_OVERRIDES:
        merged.pop(name, None)
    level = merged.get("LOG_LEVEL")
    if level is not None:
        level = level.strip().lower()
        level = {"warning": "warn", "critical": "error", "fatal": "error"}.get(level, level)
        if level in {"trace", "debug", "info", "warn", "error"}:
            merged["LOG_LEVEL"] = level
        else:
            merged.pop("LOG_LEVEL")
    # JSON also for the CLI's first log lines, written before gateway.config.ts is loaded
    merged.setdefault("LOG_JSON", "1")
    if "JWT_PUBLIC_KEY_FILE" not in merged:
        raise ValueError("JWT_PUBLIC_KEY_FILE must be set for the gateway")
    return merged


def start_gateway(
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    stdout=None,
    stderr=None,
) -> subprocess.Popen:
    """Start the gateway in its own process group; returns at once (see :func:`wait_ready`)."""
    if not HIVE_GATEWAY_BIN.exists():
        raise FileNotFoundError(f"{HIVE_GATEWAY_BIN} is missing: run `npm ci` in {GATEWAY_DIR}")
    return subprocess.Popen(
        gateway_command(),
        env=gateway_env(port, env),
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,  # own process group: stop_gateway() kills it and any children
    )


def wait_ready(
    proc: subprocess.Popen | None,
    port: int,
    host: str = "127.0.0.1",
    timeout: float = 30.0,
) -> None:
    """Poll ``GET /readiness`` until it answers 200; raise if the process exits or time is up."""
    url = f"http://{host}:{port}/readiness"
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"gateway exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"gateway not ready at {url} after {timeout} s")
        time.sleep(0.1)


def stop_gateway(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the gateway's process group, SIGKILL it if it has not exited after ``timeout``."""
    if proc.poll() is not None:
        return
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
