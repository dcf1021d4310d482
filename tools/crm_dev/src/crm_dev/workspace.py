"""Where things are: the repository root, the state directory ``.crm/`` and the service registry."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

GATEWAY_PORT = 4000
JWT_ISSUER = "crm-dev"
JWT_AUDIENCE = "crm"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
PG_HOST, PG_PORT = "127.0.0.1", 5432
AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672


@dataclass(frozen=True)
class Service:
    """A Python subgraph service: package ``crm-<name>``, console script ``crm-<name>``."""

    name: str
    port: int

    @property
    def script(self) -> str:
        return f"crm-{self.name}"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/crm_{self.name}"

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def url_env(self) -> str:
        """The gateway's override variable for this subgraph's URL (``CLIENTS_URL``)."""
        return "".join(c if c.isalnum() else "_" for c in self.name.upper()) + "_URL"


#: Every service ``./crm up`` runs and ``./crm compose`` takes SDL from (docs/conventions.md ports).
SERVICES: tuple[Service, ...] = (
    Service("clients", 8101),
    Service("activities", 8102),
    Service("tasks", 8103),
    Service("pricing", 8104),
    Service("analytics", 8105),
)


def _is_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    return pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text()


def repo_root() -> Path:
    """The workspace root: ``$CRM_ROOT``, else the first parent (of cwd, then of this file) with the
    workspace ``pyproject.toml``."""
    if os.environ.get("CRM_ROOT"):
        return Path(os.environ["CRM_ROOT"]).resolve()
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if _is_root(candidate):
                return candidate
    raise RuntimeError("cannot find the workspace root (a pyproject.toml with [tool.uv.workspace])")


def state_dir(root: Path) -> Path:
    return root / ".crm"


def keys_dir(root: Path) -> Path:
    return state_dir(root) / "keys"


def logs_dir(root: Path) -> Path:
    return state_dir(root) / "logs"


def venv_script(name: str) -> str:
    """A console script of the environment running us (``.venv/bin/<name>``), else from PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"the `{name}` command is missing: run ./crm (it syncs the workspace) or `uv sync "
            "--all-packages`"
        )
    return found
