"""The README's first request, as the tests read it (``tools/crm_dev/tests`` check that it
names an employee ``./crm seed`` creates; ``tests/e2e/test_first_request.py`` runs it)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any


def first_request(readme: Path) -> tuple[list[str], dict[str, Any]]:
    """The ``./crm token`` arguments (``["--role", "manager", "--employee", "<uuid>"]``) and the
    JSON body ``curl -d`` sends, from the first ``sh`` block after "A first request"."""
    text = readme.read_text()
    block = text.split("A first request", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    command = re.search(r"\$\((\./crm token [^)]*)\)", block)
    body = re.search(r"-d '(\{.*\})'", block)
    if command is None or body is None:
        raise ValueError(f"no token command and JSON body in the README's first request:\n{block}")
    parsed: dict[str, Any] = json.loads(body.group(1))
    return shlex.split(command.group(1))[2:], parsed
