"""The sources type-check under mypy --strict (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["libs/crm_common/src", "services/clients/src", "services/activities/src",
           "services/tasks/src", "services/pricing/src", "services/analytics/src",
           "tools/crm_dev/src"]


def test_sources_type_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *SOURCES], cwd=ROOT, capture_output=True, text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
