"""The supergraph against the last released schema: every breaking change graphql-inspector finds
(``node gateway/breaking.mjs``) must be recorded in docs/api-changes.md, section "Unreleased", as
a line ``- `CHANGE_TYPE coordinate`: text``. The failure message lists the unrecorded changes in
that format, ready to paste."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
CHECK = GATEWAY / "breaking.mjs"
CHANGES = ROOT / "docs" / "api-changes.md"

RECORD = re.compile(r"^- `([A-Z_]+) ([^`\s]+)`")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: the gateway needs Node.js 20+")
    if not (GATEWAY / "node_modules" / "@graphql-inspector" / "core").is_dir():
        pytest.fail("gateway/node_modules lacks @graphql-inspector/core: run `npm ci` in gateway/")
    return node


def changes(old: Path | None = None, new: Path | None = None) -> list[dict[str, str]]:
    args = [_node(), str(CHECK)]
    if old is not None:
        args += ["--old", str(old)]
    if new is not None:
        args += ["--new", str(new)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def key(change: dict[str, str]) -> str:
    return f"{change['type']} {change['path'] or '-'}"


def recorded(text: str) -> set[str]:
    """The backquoted keys of the lines in section "## Unreleased" (up to the next "## ")."""
    section = text.split("\n## Unreleased", 1)
    if len(section) < 2:
        pytest.fail(f"{CHANGES} has no section '## Unreleased'")
    after_heading = section[1].split("\n", 1)[1] if "\n" in section[1] else ""
    body = re.split(r"\n## ", after_heading, maxsplit=1)[0]
    keys = set()
    for line in body.splitlines():
        if not line.startswith("- "):
            continue
        match = RECORD.match(line)
        if match is None:
            pytest.fail(f"{CHANGES}: not in the format - `CHANGE_TYPE coordinate`: text\n{line}")
        keys.add(f"{match.group(1)} {match.group(2)}")
    return keys


def unrecorded_message(missing: list[dict[str, str]]) -> str:
    lines = "\n".join(f"- `{key(c)}`: {c['message']}" for c in missing)
    return (f"{len(missing)} breaking change(s) of the API since the released schema "
            f"(gateway/released.graphql) are not recorded in docs/api-changes.md. Record each "
            f"under '## Unreleased' (say why and what a front end does), or undo it:\n{lines}")


def test_every_breaking_change_since_the_release_is_recorded() -> None:
    found = [c for c in changes() if c["criticality"] == "BREAKING"]
    known = recorded(CHANGES.read_text())
    missing = [c for c in found if key(c) not in known]
    assert not missing, unrecorded_message(missing)


# --- the check itself, on two small supergraphs -----------------------------------------------

SDL = '''extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { client(id: ID!): Client  clients(first: Int): [Client!]! }
type Client @key(fields: "id") { id: ID!  name: String!  tasks: [String!]! }
'''


def _compose(tmp: Path, name: str, sdl: str) -> Path:
    (tmp / f"{name}.graphql").write_text(sdl)
    (tmp / f"{name}.json").write_text(json.dumps(
        [{"name": "demo", "url": "http://127.0.0.1:9/graphql", "sdl": f"{name}.graphql"}]))
    out = tmp / f"{name}.supergraph.graphql"
    subprocess.run([_node(), str(GATEWAY / "compose.mjs"), "--config", str(tmp / f"{name}.json"),
                    "--out", str(out)], check=True, capture_output=True, timeout=60)
    return out


def test_the_check_finds_breaking_changes_and_words_them_for_pasting(tmp_path: Path) -> None:
    old = _compose(tmp_path, "old", SDL)
    new = _compose(tmp_path, "new", SDL.replace("  tasks: [String!]! }", " nickname: String }")
                   .replace("client(id: ID!)", "client(id: String!)"))
    found = changes(old, new)
    breaking = sorted(key(c) for c in found if c["criticality"] == "BREAKING")
    assert breaking == ["FIELD_ARGUMENT_TYPE_CHANGED Query.client.id", "FIELD_REMOVED Client.tasks"]
    assert "FIELD_ADDED Client.nickname" in {key(c) for c in found}
    assert changes(old, old) == []
    missing = [c for c in found if c["criticality"] == "BREAKING"]
    message = unrecorded_message(missing)
    assert "- `FIELD_REMOVED Client.tasks`: Field 'tasks' was removed" in message
    # pasted under Unreleased, the lines are recorded
    pasted = "# x\n\n## Unreleased\n\n" + "\n".join(
        line for line in message.splitlines() if line.startswith("- ")) + "\n\n## 2026-01 (v1)\n"
    assert recorded(pasted) == set(breaking)
