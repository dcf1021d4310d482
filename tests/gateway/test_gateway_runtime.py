"""The gateway as it runs: Hive Gateway started from gateway/gateway.config.ts as a process, in
front of a stand-in Strawberry subgraph (tests/gateway/stub_subgraph.py), with a throwaway RSA key
pair.

The supergraph is composed for the test with gateway/compose.mjs from the stub's SDL, with a wrong
URL for the subgraph; STUB_URL points the gateway at the real one (the <NAME>_URL override). A
second gateway (``gateway_down``) points STUB_URL at a port nothing listens on: an unreachable
subgraph.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crm_dev.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
STUB = Path(__file__).resolve().parent / "stub_subgraph.py"

_spec = importlib.util.spec_from_file_location("gateway_process", GATEWAY / "gateway_process.py")
gateway_process = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gateway_process)

ISSUER = "crm-dev"
AUDIENCE = "crm"


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(url)
        time.sleep(0.1)


class Keys:
    def __init__(self, directory: Path) -> None:
        self.good = _private_key()
        self.other = _private_key()
        self.public_file = directory / "jwt_public.pem"
        self.public_file.write_bytes(
            self.good.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def token(self, *, key=None, exp_in: int = 600, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "roles": ["sales_rep"],
            "iat": now,
            "exp": now + exp_in,
        }
        claims.update(overrides)
        return jwt.encode(claims, _pem_private(key or self.good), algorithm="RS256")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gateway")


@pytest.fixture(scope="module")
def keys(workdir: Path) -> Keys:
    return Keys(workdir)


@pytest.fixture(scope="module")
def stub_url(workdir: Path) -> Iterator[str]:
    port = free_port()
    log = open(workdir / "stub.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, str(STUB), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        gateway_process.stop_gateway(proc)  # same process-group termination
        log.close()


@pytest.fixture(scope="module")
def supergraph(workdir: Path) -> Path:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: the gateway needs Node.js 20+")
    if not gateway_process.HIVE_GATEWAY_BIN.exists():
        pytest.fail("gateway/node_modules is missing: run `npm ci` in gateway/")
    sdl = subprocess.run(
        [sys.executable, str(STUB), "--sdl"], capture_output=True, text=True, check=True
    ).stdout
    (workdir / "stub.graphql").write_text(sdl)
    # A URL nothing listens on: the gateway reaches the stub only through the STUB_URL override.
    (workdir / "subgraphs.json").write_text(
        json.dumps([{"name": "stub", "url": "http://127.0.0.1:9/graphql", "sdl": "stub.graphql"}])
    )
    out = workdir / "supergraph.graphql"
    subprocess.run(
        [
            node,
            str(GATEWAY / "compose.mjs"),
            "--config",
            str(workdir / "subgraphs.json"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out


@contextmanager
def _running_gateway(
    log_file: Path, keys: Keys, supergraph: Path, stub_url: str, planner: str | None = None
) -> Iterator[str]:
    port = free_port()
    log = open(log_file, "wb")
    proc = gateway_process.start_gateway(
        port=port,
        env={
            "CRM_ENV": "production",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_SUPERGRAPH": str(supergraph),
            "STUB_URL": stub_url,
            "JWT_PUBLIC_KEY_FILE": str(keys.public_file),
            "JWT_ISSUER": ISSUER,
            "JWT_AUDIENCE": AUDIENCE,
            "LOG_LEVEL": "WARNING",  # upper case as the services use it; the helper normalises it
            **({"GATEWAY_QUERY_PLANNER": planner} if planner else {}),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            gateway_process.wait_ready(proc, port=port, timeout=45)
        except Exception:
            log.flush()
            pytest.fail(f"gateway did not start:\n{log_file.read_text()[-4000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        gateway_process.stop_gateway(proc)
        log.close()
    assert proc.poll() is not None


@pytest.fixture(scope="module")
def gateway(workdir: Path, keys: Keys, stub_url: str, supergraph: Path) -> Iterator[str]:
    with _running_gateway(workdir / "gateway.log", keys, supergraph, stub_url) as url:
        yield url


@pytest.fixture(scope="module", params=["rust", "js"])
def gateway_down(request, workdir: Path, keys: Keys, supergraph: Path) -> Iterator[str]:
    """A gateway whose subgraph URL has nothing listening behind it, with each query planner
    (the Rust one is the default; the JS one stays selectable); its log is gateway_down.log."""
    dead_url = f"http://127.0.0.1:{free_port()}/graphql"
    log = workdir / "gateway_down.log"
    with _running_gateway(log, keys, supergraph, dead_url, planner=request.param) as url:
        yield url


@pytest.fixture(scope="module")
def client(gateway: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway, timeout=15) as c:
        yield c


def _post(client: httpx.Client, query: str, token: str | None = None, headers: dict | None = None):
    h = {"content-type": "application/json", **(headers or {})}
    if token is not None:
        h["authorization"] = f"Bearer {token}"
    return client.post("/graphql", content=json.dumps({"query": query}), headers=h)


def _assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


# ------------------------------------------------------------------ authentication


def test_request_without_token_is_refused(client):
    _assert_unauthenticated(_post(client, "{ node { level } }"))


def test_expired_token_is_refused(client, keys):
    _assert_unauthenticated(_post(client, "{ node { level } }", keys.token(exp_in=-30)))


def test_token_signed_by_another_key_is_refused(client, keys):
    _assert_unauthenticated(_post(client, "{ node { level } }", keys.token(key=keys.other)))


@pytest.mark.parametrize("claims", [{"iss": "someone-else"}, {"aud": "not-crm"}])
def test_token_with_wrong_issuer_or_audience_is_refused(client, keys, claims):
    _assert_unauthenticated(_post(client, "{ node { level } }", keys.token(**claims)))


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwdw==", "Bearer a.b.c"]
)
def test_malformed_authorization_is_refused_the_same_way(client, header):
    response = client.post(
        "/graphql",
        json={"query": "{ node { level } }"},
        headers={"authorization": header},
    )
    _assert_unauthenticated(response)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_hs256_token_keyed_with_the_public_key_is_refused(client, keys):
    # algorithm confusion: an HS256 token whose HMAC key is the (public) RSA key; only RS256 counts.
    # PyJWT refuses to build it, so it is built by hand.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 600}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(
        keys.public_file.read_bytes(), f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    _assert_unauthenticated(
        _post(client, "{ node { level } }", f"{header}.{payload}.{_b64(signature)}")
    )


def test_refused_tokens_are_not_logged_with_a_stack_trace(client, keys, workdir):
    # each refusal is an expected failure: at most one info line (none at the tests' level warn)
    for token in (keys.token(exp_in=-30), keys.token(key=keys.other), keys.token(iss="x")):
        _assert_unauthenticated(_post(client, "{ node { level } }", token))
    time.sleep(0.3)  # let the gateway's writes reach the file
    log = (workdir / "gateway.log").read_text()
    assert "verify.js" not in log and "TokenExpiredError: jwt expired" not in log, log[-3000:]
    assert "Failed to verify authentication token" not in log, log[-3000:]


def test_valid_token_gets_data(client, keys):
    response = _post(
        client, '{ node { level child { level } } client(id: "7") { id name } }', keys.token()
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": {
            "node": {"level": 1, "child": {"level": 2}},
            "client": {"id": "7", "name": "client 7"},
        }
    }


def test_authorization_and_correlation_id_are_forwarded(client, keys):
    token = keys.token()
    response = _post(
        client,
        "{ received { authorization correlationId } }",
        token,
        headers={"x-correlation-id": "corr-1234"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["received"] == {
        "authorization": f"Bearer {token}",
        "correlationId": "corr-1234",
    }
    assert response.headers["x-correlation-id"] == "corr-1234"


def test_correlation_id_is_generated_when_missing(client, keys):
    response = _post(client, "{ received { correlationId } }", keys.token())
    assert response.status_code == 200, response.text
    sent = response.json()["data"]["received"]["correlationId"]
    assert sent and uuid.UUID(sent)
    assert response.headers["x-correlation-id"] == sent


def test_unsafe_correlation_id_is_replaced(client, keys):
    response = _post(
        client,
        "{ received { correlationId } }",
        keys.token(),
        headers={"x-correlation-id": "no spaces/or slashes " + "x" * 200},
    )
    assert response.status_code == 200, response.text
    sent = response.json()["data"]["received"]["correlationId"]
    assert uuid.UUID(sent)
    assert response.headers["x-correlation-id"] == sent


def test_refusals_carry_a_correlation_id(client):
    response = _post(client, "{ node { level } }", headers={"x-correlation-id": "corr-401"})
    assert response.status_code == 401
    assert response.headers["x-correlation-id"] == "corr-401"


# ------------------------------------------------------------------ limits


def _deep_query(depth: int) -> str:
    # depth counts fields from the root: node(1) child(2) ... level(depth)
    inner = "level"
    for _ in range(depth - 2):
        inner = f"child {{ {inner} }}"
    return f"{{ node {{ {inner} }} }}"


def test_depth_up_to_the_limit_is_served(client, keys):
    response = _post(client, _deep_query(10), keys.token())
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text


def test_depth_past_the_limit_is_refused(client, keys):
    response = _post(client, _deep_query(11), keys.token())
    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "MAX_DEPTH_EXCEEDED", body
    assert "depth limit of 10" in body["errors"][0]["message"]
    # word for word what a subgraph answers (crm_common.graphql.limits)
    assert body["errors"][0]["message"] == "Query depth limit of 10 exceeded, found 11."


def _aliased(n: int) -> str:
    return "{ " + " ".join(f"a{i}: node {{ level }}" for i in range(n)) + " }"


def test_aliases_up_to_the_limit_are_served(client, keys):
    response = _post(client, _aliased(15), keys.token())
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text


def test_too_many_aliases_are_refused(client, keys):
    body = _post(client, _aliased(16), keys.token()).json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "MAX_ALIASES_EXCEEDED", body
    assert body["errors"][0]["message"] == "Aliases limit of 15 exceeded, found 16."


def test_too_many_tokens_are_refused(client, keys):
    body = _post(client, "{ " + "__typename " * 2100 + "}", keys.token()).json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "MAX_TOKENS_EXCEEDED", body
    assert body["errors"][0]["message"] == "Token limit of 2000 exceeded."


def test_body_over_the_limit_is_413(client, keys):
    big = json.dumps({"query": "{ node { level } }", "variables": {"pad": "x" * (1024 * 1024)}})
    response = client.post(
        "/graphql",
        content=big,
        headers={"content-type": "application/json", "authorization": f"Bearer {keys.token()}"},
    )
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_chunked_body_over_the_limit_is_413(client, keys):
    big = json.dumps({"query": "{ node { level } }", "variables": {"pad": "x" * (1024 * 1024)}})

    def chunks():
        data = big.encode()
        for i in range(0, len(data), 64 * 1024):
            yield data[i : i + 64 * 1024]

    response = client.post(
        "/graphql",
        content=chunks(),  # no Content-Length: sent chunked
        headers={"content-type": "application/json", "authorization": f"Bearer {keys.token()}"},
    )
    assert response.status_code == 413, response.text


def test_introspection_is_off_outside_development(client, keys):
    body = _post(client, "{ __schema { queryType { name } } }", keys.token()).json()
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()


def test_field_suggestions_are_hidden_outside_development(client, keys):
    body = _post(client, "{ nod { level } }", keys.token()).json()
    assert "Did you mean" not in json.dumps(body)


# ------------------------------------------------------------------ operations endpoints


def test_healthcheck_and_readiness(client):
    assert client.get("/healthcheck").status_code == 200
    assert client.get("/readiness").status_code == 200


def test_metrics_are_prometheus_text(client, keys):
    _post(client, "{ node { level } }", keys.token())  # make sure some metric has a sample
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE graphql_yoga_http_duration histogram" in text
    # request count and latency, per operation and status
    assert "graphql_yoga_http_duration_count{" in text
    assert "graphql_yoga_http_duration_sum{" in text
    assert "graphql_yoga_http_duration_bucket{" in text
    assert "graphql_gateway_subgraph_execute_duration" in text
    # no request URL as a label (a new series per query string), no per-phase / per-field metrics
    assert 'url="' not in text
    assert "graphql_envelop_deprecated_field" not in text
    assert "graphql_envelop_phase_" not in text


def test_cors_preflight(client):
    response = client.options(
        "/graphql",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example")
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


# ------------------------------------------------------------------ errors and trace ids


def _log_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_unreachable_subgraph_is_masked_with_the_correlation_id_as_trace_id(
    gateway_down, keys, workdir
):
    with httpx.Client(base_url=gateway_down, timeout=15) as c:
        response = _post(
            c, "{ node { level } }", keys.token(), headers={"x-correlation-id": "corr-down-1"}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "Unexpected error.",
            "path": ["node"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "traceId": "corr-down-1"},
        }
    ]
    assert response.headers["x-correlation-id"] == "corr-down-1"
    assert "ECONNREFUSED" not in response.text
    # the operator finds the cause in the log by the trace id the user reports
    logged = [
        line
        for line in _log_lines(workdir / "gateway_down.log")
        if line.get("correlationId") == "corr-down-1" and line.get("level") == "error"
    ]
    assert logged, (workdir / "gateway_down.log").read_text()[-2000:]
    assert "ECONNREFUSED" in json.dumps(logged)


def test_generated_correlation_id_is_the_trace_id_of_a_masked_error(gateway_down, keys):
    with httpx.Client(base_url=gateway_down, timeout=15) as c:
        response = _post(c, "{ node { level } }", keys.token())
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    trace_id = error["extensions"]["traceId"]
    assert uuid.UUID(trace_id)
    assert response.headers["x-correlation-id"] == trace_id


def test_refusals_of_the_gateway_keep_their_messages_when_the_subgraph_is_down(gateway_down, keys):
    with httpx.Client(base_url=gateway_down, timeout=15) as c:
        _assert_unauthenticated(_post(c, "{ node { level } }"))
        body = _post(c, _deep_query(11), keys.token()).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"
    assert "traceId" not in body["errors"][0]["extensions"]


def test_subgraph_fault_passes_through_with_its_trace_id(client, keys):
    response = _post(
        client,
        "{ fault node { level } }",
        keys.token(),
        headers={"x-correlation-id": "corr-fault-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"fault": None, "node": {"level": 1}}
    [error] = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["path"] == ["fault"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["traceId"] == "corr-fault-1"
    assert response.headers["x-correlation-id"] == "corr-fault-1"


def test_request_errors_answer_without_data(client, keys):
    # errors about the request itself (no path): execution never started, so no "data" key,
    # whatever the query planner (the gateway adds "data": null only to field errors)
    h = {"content-type": "application/json", "authorization": f"Bearer {keys.token()}"}
    bad_variable = client.post(
        "/graphql",
        content=json.dumps(
            {"query": "query Q($v: Int!) { badInput(value: $v) }", "variables": {"v": "x"}}
        ),
        headers=h,
    ).json()
    assert "data" not in bad_variable, bad_variable
    assert "path" not in bad_variable["errors"][0]
    unknown_field = _post(client, "{ node { nope } }", keys.token()).json()
    assert "data" not in unknown_field, unknown_field
    assert unknown_field["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_subgraph_bad_user_input_keeps_its_message(client, keys):
    body = _post(client, "{ badInput(value: -3) }", keys.token()).json()
    assert body["data"] == {"badInput": None}
    [error] = body["errors"]
    assert error["message"] == "value must be positive, got -3"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "traceId" not in error["extensions"]


def test_validation_error_keeps_its_message(client, keys):
    body = _post(client, "{ node { nope } }", keys.token()).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "nope" in error["message"]
