"""The committed supergraph (gateway/supergraph.graphql) must be what the code composes to.

For every subgraph listed in gateway/subgraphs.json, ``crm-<name> sdl`` prints its SDL from the
code; the SDL files go to a temporary directory and
``node gateway/compose.mjs --check --sdl-dir DIR`` composes them and compares the result with the
committed supergraph, without writing anything.
Fix a failure with::

    for s in clients; do uv run crm-$s sdl > gateway/subgraphs/$s.graphql; done
    node gateway/compose.mjs
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
COMPOSE = GATEWAY / "compose.mjs"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: the gateway needs Node.js 20+")
    if not (GATEWAY / "node_modules" / "@theguild" / "federation-composition").is_dir():
        pytest.fail("gateway/node_modules is missing: run `npm ci` in gateway/")
    return node


def _subgraphs() -> list[dict]:
    return json.loads((GATEWAY / "subgraphs.json").read_text())


def _service_command(name: str) -> str:
    """The console script crm-<name> of the uv environment running the tests."""
    script = f"crm-{name}"
    found = shutil.which(script) or shutil.which(script, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(
            f"the `{script}` command is missing (its package must install a console script "
            f"`{script}` with an `sdl` sub-command; see docs/conventions.md), so the {name} "
            "subgraph SDL cannot be generated and the drift of gateway/supergraph.graphql "
            "cannot be checked"
        )
    return found


def _compose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_node(), str(COMPOSE), *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_committed_supergraph_matches_committed_sdl_files():
    result = _compose("--check")
    assert result.returncode == 0, (
        "gateway/supergraph.graphql is not the composition of gateway/subgraphs/*.graphql; "
        f"run `node gateway/compose.mjs`\n{result.stdout}{result.stderr}"
    )


def test_supergraph_does_not_drift_from_the_code(tmp_path: Path):
    for entry in _subgraphs():
        name = entry["name"]
        command = _service_command(name)
        generated = subprocess.run(
            [command, "sdl"], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert generated.returncode == 0, f"`crm-{name} sdl` failed:\n{generated.stderr}"
        assert generated.stdout.strip(), f"`crm-{name} sdl` printed nothing"
        (tmp_path / Path(entry["sdl"]).name).write_text(generated.stdout)

    result = _compose("--check", "--sdl-dir", str(tmp_path))
    assert result.returncode != 2, (
        f"the SDL printed by the services does not compose:\n{result.stdout}{result.stderr}"
    )
    assert result.returncode == 0, (
        "gateway/supergraph.graphql drifts from the subgraph code; regenerate the SDL files with "
        "`uv run crm-<service> sdl > gateway/subgraphs/<service>.graphql` and run "
        f"`node gateway/compose.mjs`\n{result.stdout}{result.stderr}"
    )


# ------------------------------------------------------------------ compose.mjs itself


def _write_subgraph(tmp_path: Path, sdl: str) -> Path:
    (tmp_path / "a.graphql").write_text(sdl)
    config = tmp_path / "subgraphs.json"
    config.write_text(
        json.dumps([{"name": "a", "url": "http://127.0.0.1:1/graphql", "sdl": "a.graphql"}])
    )
    return config


GOOD_SDL = """
schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) { query: Query }
type Thing @key(fields: "id") { id: ID! name: String! }
type Query { thing(id: ID!): Thing }
"""


def test_compose_check_reports_drift_and_writes_nothing(tmp_path: Path):
    config = _write_subgraph(tmp_path, GOOD_SDL)
    out = tmp_path / "supergraph.graphql"

    missing = _compose("--check", "--config", str(config), "--out", str(out))
    assert missing.returncode == 1
    assert not out.exists()

    written = _compose("--config", str(config), "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert '@join__graph(name: "a", url: "http://127.0.0.1:1/graphql")' in out.read_text()
    assert _compose("--check", "--config", str(config), "--out", str(out)).returncode == 0

    (tmp_path / "a.graphql").write_text(
        GOOD_SDL.replace("name: String!", "name: String! size: Int")
    )
    before = out.read_text()
    drift = _compose("--check", "--config", str(config), "--out", str(out))
    assert drift.returncode == 1
    assert "+   size: Int" in drift.stderr
    assert out.read_text() == before


def test_compose_fails_with_the_composition_errors(tmp_path: Path):
    bad = GOOD_SDL.replace(
        "type Query { thing(id: ID!): Thing }", "type Query { thing(id: ID!): Nope }"
    )
    config = _write_subgraph(tmp_path, bad)
    out = tmp_path / "supergraph.graphql"
    result = _compose("--config", str(config), "--out", str(out))
    assert result.returncode == 2
    assert "Nope" in result.stderr
    assert not out.exists()
