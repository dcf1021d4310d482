"""The service command line of the kit (crm_common.cli): the three commands every service has,
a service's own, how results and bad settings come out. ``migrate`` runs against the real
PostgreSQL (a throw-away database)."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import strawberry

from crm_common.cli import Command, ServiceCli
from crm_common.devkeys import generate_key_pair
from crm_common.settings import Settings

PG_ADMIN_DSN = os.environ.get(
    "CRM_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
_, PUBLIC = generate_key_pair()


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


def build_schema() -> strawberry.Schema:
    return strawberry.federation.Schema(query=Query)


@dataclass(frozen=True)
class Outcome:
    done: int


def _cli(tmp_path: Path, *commands: Command, **environ: str) -> ServiceCli:
    apps: list[Settings] = []

    def create_app(settings: Settings) -> Any:
        apps.append(settings)
        return object()

    return ServiceCli(name="demo", default_port=8199, migrations=tmp_path / "migrations",
                      build_schema=build_schema, create_app=create_app, commands=commands,
                      environ={"JWT_PUBLIC_KEY": PUBLIC, **environ})


def test_every_service_has_serve_migrate_and_sdl_and_its_own(tmp_path: Path) -> None:
    own = Command("job", "run the job", lambda args: None)
    parser = _cli(tmp_path, own).parser()
    assert parser.prog == "crm-demo"
    help_text = parser.format_help()
    for name in ("serve", "migrate", "sdl", "job"):
        assert name in help_text
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([])
    assert exited.value.code == 2


def test_a_service_cannot_replace_a_common_command(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="serve"):
        _cli(tmp_path, Command("serve", "mine", lambda args: None)).parser()


def test_sdl_prints_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path).main(["sdl"]) == 0
    out = capsys.readouterr().out
    assert "hello: String!" in out and out.endswith("}\n")


def test_own_commands_take_arguments_and_print_what_they_return(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[argparse.Namespace] = []

    def count(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--count", type=int, default=1)

    async def as_json(args: argparse.Namespace) -> dict[str, int]:
        await asyncio.sleep(0)
        seen.append(args)
        return {"done": args.count}

    cli = _cli(tmp_path, Command("json", "a mapping", as_json, arguments=count),
               Command("text", "a string", lambda args: "plain"),
               Command("object", "anything else", lambda args: Outcome(3)),
               Command("quiet", "nothing", lambda args: None))
    assert cli.main(["json", "--count", "4"]) == 0
    assert seen[0].count == 4
    assert cli.main(["text"]) == 0
    assert cli.main(["object"]) == 0
    assert cli.main(["quiet"]) == 0
    assert capsys.readouterr().out == '{"done": 4}\nplain\nOutcome(done=3)\n'
    with pytest.raises(SystemExit):
        cli.main(["json", "--count", "many"])


def test_a_bad_setting_is_one_line_naming_the_variable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _cli(tmp_path, Command("settings", "read them", lambda args: cli.settings().port),
               SERVICE_PORT="eighty")
    assert cli.main(["settings"]) == 2
    err = capsys.readouterr().err
    assert err == "crm-demo: SERVICE_PORT must be a whole number, not 'eighty'\n"
    assert cli.main(["serve"]) == 2


def test_serve_runs_the_app_of_the_settings_under_uvicorn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.append({"app": app, **kw}))
    assert _cli(tmp_path, SERVICE_PORT="8188").main(["serve"]) == 0
    assert ran[0]["port"] == 8188 and ran[0]["host"] == "127.0.0.1"
    assert ran[0]["lifespan"] == "on"


def test_the_database_url_defaults_to_the_service_database(tmp_path: Path) -> None:
    assert _cli(tmp_path).database_url().endswith("/crm_demo")
    assert _cli(tmp_path, DATABASE_URL="postgresql+asyncpg://h/db").database_url() == \
        "postgresql+asyncpg://h/db"


def test_migrate_creates_the_database_and_runs_the_revisions(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(textwrap.dedent("""
        import sqlalchemy as sa
        from crm_common.migrations import run_environment
        run_environment(sa.MetaData())
    """))
    (folder / "versions" / "2026_12_01_0001_first.py").write_text(textwrap.dedent('''
        """first"""
        from alembic import op
        import sqlalchemy as sa
        revision = "0001"
        down_revision = None
        branch_labels = None
        depends_on = None
        def upgrade() -> None:
            op.create_table("greetings", sa.Column("id", sa.Integer, primary_key=True))
        def downgrade() -> None:
            op.drop_table("greetings")
    '''))
    name = f"crm_cli_test_{secrets.token_hex(4)}"
    url = PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0]
    cli = _cli(tmp_path, DATABASE_URL=f"{url}/{name}")
    try:
        assert cli.main(["migrate"]) == 0
        assert cli.main(["migrate"]) == 0  # at head: nothing more to do
        assert asyncio.run(_tables(name)) == {"alembic_version", "greetings"}
    finally:
        asyncio.run(_drop(name))


async def _tables(name: str) -> set[str]:
    conn = await asyncpg.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def _drop(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def test_web_concurrency_is_a_bounded_whole_number(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path).settings().web_concurrency == 1
    assert _cli(tmp_path, WEB_CONCURRENCY=" 3 ").settings().web_concurrency == 3
    for bad, says in (("two", "must be a whole number, not 'two'"), ("0", "at least 1"),
                      ("-1", "at least 1"), ("100000", "at most 32"), ("1.5", "whole number")):
        cli = _cli(tmp_path, WEB_CONCURRENCY=bad)
        assert cli.main(["serve"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("crm-demo: WEB_CONCURRENCY ") and says in err, err


WORKER_SERVICE = '''
import os
from pathlib import Path
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from crm_common.cli import ServiceCli

def create_app(settings):
    async def who(request):
        return JSONResponse({"pid": os.getpid(), "relay": settings.run_relay,
                             "consumers": settings.run_consumers,
                             "job": os.environ.get("RUN_DEMO_JOB", "true")})
    return Starlette(routes=[Route("/", who)])

cli = ServiceCli(name="demo", default_port=8199, migrations=Path("."),
                 build_schema=lambda: None, create_app=create_app,
                 background_switches=("RUN_DEMO_JOB",), import_name="demo_workers:cli")
'''


@pytest.mark.timeout(90)
def test_workers_serve_and_exactly_one_runs_the_background_work(tmp_path: Path) -> None:
    """WEB_CONCURRENCY=2: two processes answer; one runs the relay, consumers and the service's
    job, the other none of them; when the one dies, its replacement takes the work over."""
    import json
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from crm_dev import procs

    (tmp_path / "demo_workers.py").write_text(WORKER_SERVICE)
    port = procs.free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "JWT_PUBLIC_KEY": PUBLIC,
           "SERVICE_PORT": str(port), "WEB_CONCURRENCY": "2", "LOG_LEVEL": "WARNING"}
    code = "import demo_workers, sys; sys.exit(demo_workers.cli.main(['serve']))"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def workers(until: float) -> dict[int, dict[str, Any]]:
        seen: dict[int, dict[str, Any]] = {}
        while time.monotonic() < until and len(seen) < 2:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    answer = json.loads(r.read())
                seen[answer["pid"]] = answer
            except OSError:
                time.sleep(0.1)
        return seen

    try:
        seen = workers(time.monotonic() + 40)
        assert len(seen) == 2, seen
        background = [a for a in seen.values() if a["relay"]]
        assert len(background) == 1, seen
        assert background[0]["consumers"] and background[0]["job"] == "true"
        web = [a for a in seen.values() if not a["relay"]][0]
        assert not web["consumers"] and web["job"] == "false"
        os.kill(background[0]["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            now = workers(time.monotonic() + 5)
            if background[0]["pid"] not in now and len(now) == 2:
                break
        assert background[0]["pid"] not in now and len(now) == 2, now
        assert len([a for a in now.values() if a["relay"]]) == 1, now
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_relay_runs_the_relay_app_under_uvicorn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from starlette.applications import Starlette

    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.append({"app": app, **kw}))
    assert _cli(tmp_path, SERVICE_PORT="8187").main(["relay"]) == 0
    assert isinstance(ran[0]["app"], Starlette) and ran[0]["port"] == 8187
    paths = {route.path for route in ran[0]["app"].routes}
    assert paths == {"/healthz", "/healthz/details", "/readyz", "/metrics"}
    # an environment that sets WEB_CONCURRENCY for the API (uvicorn reads it) leaves the relay
    # one process: with two workers uvicorn refuses an app object and exits with code 3
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    options = {k: v for k, v in ran[0].items() if k != "app"}
    assert uvicorn.Config(ran[0]["app"], **options).workers == 1
    with pytest.raises(ValueError, match="relay"):
        _cli(tmp_path, Command("relay", "mine", lambda args: None)).parser()
