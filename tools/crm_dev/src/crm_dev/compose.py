"""``./crm compose``: subgraph SDL from the code, then the supergraph with gateway/compose.mjs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from crm_dev.workspace import SERVICES, Service, venv_script


class ComposeError(RuntimeError):
    pass


def service_sdl(service: Service, timeout: float = 120) -> str:
    """What ``crm-<service> sdl`` prints (the federation-2 SDL of the subgraph)."""
    result = subprocess.run([venv_script(service.script), "sdl"], capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise ComposeError(f"`{service.script} sdl` failed with code {result.returncode}:\n"
                           f"{result.stderr.strip()}")
    return result.stdout if result.stdout.endswith("\n") else result.stdout + "\n"


def run_compose_mjs(root: Path, *args: str) -> int:
    """``node gateway/compose.mjs ARGS`` (flags: --check, --sdl-dir DIR, --out, --stdout); its code.

    Exit codes of compose.mjs: 0 ok / up to date, 1 --check found drift, 2 composition/input error.
    """
    node = shutil.which("node")
    if node is None:
        raise ComposeError("`node` is not on PATH: composing the supergraph needs Node.js 20+")
    script = root / "gateway" / "compose.mjs"
    if not script.exists():
        raise ComposeError(f"{script} does not exist yet")
    if not (root / "gateway" / "node_modules").is_dir():
        raise ComposeError("gateway/node_modules is missing: run ./crm (it runs `npm ci` there)")
    sys.stdout.flush()
    return subprocess.run([node, str(script), *args], cwd=root, stdin=subprocess.DEVNULL).returncode


def _listed_subgraphs(root: Path) -> set[str]:
    try:
        return {e["name"] for e in json.loads((root / "gateway" / "subgraphs.json").read_text())}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def compose(root: Path, *, check: bool = False, services: Sequence[Service] = SERVICES) -> int:
    """Regenerate ``gateway/subgraphs/<service>.graphql`` and the supergraph; exit code.

    With ``check`` nothing is written: the fresh SDL is compared with the committed files and
    ``compose.mjs --check --sdl-dir`` compares the supergraph; 1 on any drift.
    """
    subgraphs_dir = root / "gateway" / "subgraphs"
    listed = _listed_subgraphs(root)
    for service in services:
        if listed and service.name not in listed:
            print(f"compose: note: {service.name} is not listed in gateway/subgraphs.json, so "
                  "it is not part of the supergraph", file=sys.stderr)
    if not check:
        subgraphs_dir.mkdir(parents=True, exist_ok=True)
        for service in services:
            target = subgraphs_dir / f"{service.name}.graphql"
            sdl = service_sdl(service)
            changed = not target.exists() or target.read_text() != sdl
            target.write_text(sdl)
            print(f"compose: {'wrote' if changed else 'unchanged'} "
                  f"{target.relative_to(root)} (from `{service.script} sdl`)")
        return run_compose_mjs(root)

    drift = False
    with tempfile.TemporaryDirectory(prefix="crm-sdl-") as tmp:
        for service in services:
            sdl = service_sdl(service)
            (Path(tmp) / f"{service.name}.graphql").write_text(sdl)
            committed = subgraphs_dir / f"{service.name}.graphql"
            if not committed.exists() or committed.read_text() != sdl:
                drift = True
                print(f"compose: {committed.relative_to(root)} differs from `{service.script} sdl`",
                      file=sys.stderr)
        code = run_compose_mjs(root, "--check", "--sdl-dir", tmp)
    if code == 0 and drift:
        code = 1
    if code == 1:
        print("compose: drift found; regenerate with: ./crm compose", file=sys.stderr)
    return code
