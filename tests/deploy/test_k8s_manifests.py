"""Static checks of the deployment files (deploy/): Kubernetes manifests and Dockerfiles.

Nothing here needs a cluster or a Docker engine. What it checks is what a reviewer would: that the
manifests hang together (names, keys, ports, paths the apps really serve), that the pods are locked
down, and that the Dockerfiles build what the workspace declares. `kubectl kustomize` is run when
kubectl is on PATH (it renders offline); otherwise that one test is skipped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKER = ROOT / "deploy" / "docker"
NAMESPACE = "crm"
SECRETS_EXAMPLE = "secrets.example.yaml"

# ------------------------------------------------------------------------------------- loading


def _load(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all_docs() -> dict[str, list[dict]]:
    return {p.name: _load(p) for p in sorted(K8S.glob("*.yaml"))}


DOCS = _all_docs()
KUSTOMIZATION = DOCS["kustomization.yaml"][0]
APPLIED = [d for name in KUSTOMIZATION["resources"] for d in DOCS[name]]
EXAMPLE_SECRETS = DOCS.get(SECRETS_EXAMPLE, [])


def _of_kind(kind: str, docs: list[dict] = APPLIED) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def _named(kind: str, docs: list[dict] = APPLIED) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in _of_kind(kind, docs)}


DEPLOYMENTS = _of_kind("Deployment")
DEPLOYMENT_IDS = [d["metadata"]["name"] for d in DEPLOYMENTS]
CONFIGMAPS = _named("ConfigMap")
SECRETS = _named("Secret", APPLIED + EXAMPLE_SECRETS)


def _pod(dep: dict) -> dict:
    return dep["spec"]["template"]["spec"]


def _containers(dep: dict, *, init: bool = True) -> list[dict]:
    pod = _pod(dep)
    return list(pod.get("containers", [])) + (list(pod.get("initContainers", [])) if init else [])


def _main(dep: dict) -> dict:
    (container,) = _pod(dep)["containers"]
    return container


def _is_gateway(dep: dict) -> bool:
    return dep["metadata"]["name"] == "gateway"


def _secret_keys(secret: dict) -> set[str]:
    return set(secret.get("data") or {}) | set(secret.get("stringData") or {})


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _container_port(container: dict, port: int | str) -> dict | None:
    for p in container.get("ports", []):
        if port in (p.get("name"), p["containerPort"]):
            return p
    return None


# ------------------------------------------------------------------ what the applications serve


def _service_routes() -> set[str]:
    """Paths the Python services serve: the routes of crm_common.service.create_service_app."""
    src = (ROOT / "libs/crm_common/src/crm_common/service.py").read_text()
    return set(re.findall(r'Route\("(/[^"]*)"', src))


def _gateway_endpoints() -> dict[str, str]:
    src = (ROOT / "gateway/gateway.config.ts").read_text()
    found = dict(re.findall(r"(healthCheckEndpoint|readinessCheckEndpoint):\s*'([^']+)'", src))
    return {"liveness": found["healthCheckEndpoint"], "readiness": found["readinessCheckEndpoint"]}


def _expected_probe_paths(dep: dict) -> dict[str, str]:
    if _is_gateway(dep):
        return _gateway_endpoints()
    routes = _service_routes()
    assert {"/healthz", "/readyz", "/metrics"} <= routes, routes
    return {"liveness": "/healthz", "readiness": "/readyz"}


# ------------------------------------------------------------------------------ kustomization


def test_every_listed_resource_exists_and_every_manifest_is_listed() -> None:
    listed = KUSTOMIZATION["resources"]
    assert len(listed) == len(set(listed))
    for name in listed:
        assert (K8S / name).is_file(), f"kustomization.yaml lists missing {name}"
    unlisted = set(DOCS) - set(listed) - {"kustomization.yaml", SECRETS_EXAMPLE}
    assert not unlisted, f"manifests not in kustomization.yaml: {unlisted}"
    assert SECRETS_EXAMPLE not in listed, "the example Secrets must never be applied"
    assert KUSTOMIZATION["namespace"] == NAMESPACE
    assert "namespace.yaml" in listed
    assert _named("Namespace").keys() == {NAMESPACE}


def test_every_document_is_a_kubernetes_object() -> None:
    for name, docs in DOCS.items():
        if name == "kustomization.yaml":
            continue
        for doc in docs:
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), (name, doc)
            assert doc["metadata"].get("name"), (name, doc)
            # the namespace comes from kustomization.yaml (or `kubectl -n crm` for the Secrets)
            assert doc["metadata"].get("namespace") in (None, NAMESPACE), (name, doc["metadata"])


def test_kustomize_renders() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not on PATH (only needed to render the kustomization offline)")
    out = subprocess.run([kubectl, "kustomize", str(K8S)], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    rendered = [d for d in yaml.safe_load_all(out) if d]
    assert len(rendered) == len(APPLIED)
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE, doc["metadata"]
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "crm"
    images = {c["image"] for d in rendered if d["kind"] == "Deployment"
              for c in _containers(d)}
    assert images == {c["image"] for d in DEPLOYMENTS for c in _containers(d)}, images


def test_images_are_pinned_and_consistent_with_kustomization() -> None:
    tags = {i["name"]: i["newTag"] for i in KUSTOMIZATION.get("images", [])}
    for dep in DEPLOYMENTS:
        for c in _containers(dep):
            image = c["image"]
            assert "@sha256:" in image or re.fullmatch(r"[^:]+(:\d+)?/[^:]+:[\w.-]+", image), image
            name, tag = image.rsplit(":", 1)
            assert tag != "latest", image
            assert name in tags, f"{image}: not under images: in kustomization.yaml"
            assert tags[name] != "latest"
            assert c.get("imagePullPolicy") != "Always" or tag != "latest"


# --------------------------------------------------------------------------------- workloads


def test_there_is_a_gateway_and_at_least_one_service() -> None:
    assert "gateway" in DEPLOYMENT_IDS
    assert "clients" in DEPLOYMENT_IDS


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_probes_point_at_served_paths(dep: dict) -> None:
    container = _main(dep)
    expected = _expected_probe_paths(dep)
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert kind in container, f"{dep['metadata']['name']}: no {kind}"
        get = container[kind]["httpGet"]
        assert _container_port(container, get["port"]) is not None, get
    assert container["livenessProbe"]["httpGet"]["path"] == expected["liveness"]
    assert container["readinessProbe"]["httpGet"]["path"] == expected["readiness"]
    # a start-up probe must never be the readiness check (it would restart pods during an outage)
    assert container["startupProbe"]["httpGet"]["path"] == expected["liveness"]


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_pods_are_locked_down(dep: dict) -> None:
    pod = _pod(dep)
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc.get("runAsUser", 10001) != 0
    assert psc["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod.get("hostNetwork") is not True and pod.get("hostPID") is not True
    assert pod["automountServiceAccountToken"] is False
    for c in _containers(dep):
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc.get("privileged", False) is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert not sc["capabilities"].get("add"), c["name"]
        assert sc.get("runAsNonRoot", True) is True and sc.get("runAsUser", 1) != 0


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_resources_have_requests_and_limits(dep: dict) -> None:
    for c in _containers(dep):
        res = c["resources"]
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(res[part]), (c["name"], part)


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_service_account_exists(dep: dict) -> None:
    assert _pod(dep)["serviceAccountName"] in _named("ServiceAccount")


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_env_and_volumes_refer_to_existing_configmaps_and_secrets(dep: dict) -> None:
    pod = _pod(dep)
    for c in _containers(dep):
        names = [e["name"] for e in c.get("env", [])]
        assert len(names) == len(set(names)), f"{c['name']}: duplicate env {names}"
        for e in c.get("env", []):
            ref = e.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                r = ref["configMapKeyRef"]
                assert r["name"] in CONFIGMAPS, r
                assert r["key"] in CONFIGMAPS[r["name"]]["data"], r
            elif "secretKeyRef" in ref:
                r = ref["secretKeyRef"]
                assert r["name"] in SECRETS, f"{r} not in the manifests nor {SECRETS_EXAMPLE}"
                assert r["key"] in _secret_keys(SECRETS[r["name"]]), r
            else:
                assert "value" in e, e
        for src in c.get("envFrom", []):
            if "configMapRef" in src:
                assert src["configMapRef"]["name"] in CONFIGMAPS
            if "secretRef" in src:
                assert src["secretRef"]["name"] in SECRETS
        volumes = {v["name"] for v in pod.get("volumes", [])}
        for m in c.get("volumeMounts", []):
            assert m["name"] in volumes, m
    for v in pod.get("volumes", []):
        if "secret" in v:
            secret = SECRETS[v["secret"]["secretName"]]
            for item in v["secret"].get("items", []):
                assert item["key"] in _secret_keys(secret), item
        if "configMap" in v:
            assert v["configMap"]["name"] in CONFIGMAPS


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_jwt_public_key_file_is_the_mounted_secret(dep: dict) -> None:
    container = _main(dep)
    env = {e["name"]: e for e in container["env"]}
    key_file = Path(env["JWT_PUBLIC_KEY_FILE"]["value"])
    assert key_file == Path("/etc/crm/jwt/jwt_public.pem")
    volumes = {v["name"]: v for v in _pod(dep)["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == key_file.parent]
    assert mount.get("readOnly") is True
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "crm-jwt"
    assert key_file.name in {i["path"] for i in secret["items"]}
    assert "PUBLIC KEY" in SECRETS["crm-jwt"]["stringData"][key_file.name]
    assert "PRIVATE" not in yaml.safe_dump(EXAMPLE_SECRETS)


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_no_service_links_and_listen_on_all_interfaces(dep: dict) -> None:
    pod = _pod(dep)
    assert pod["enableServiceLinks"] is False
    env = {e["name"]: e.get("value") for e in _main(dep)["env"]}
    host_var, port_var = ("GATEWAY_HOST", "GATEWAY_PORT") if _is_gateway(dep) else (
        "SERVICE_HOST", "SERVICE_PORT")
    assert env[host_var] == "0.0.0.0"
    assert _container_port(_main(dep), int(env[port_var])) is not None, env[port_var]


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_prometheus_annotations(dep: dict) -> None:
    ann = dep["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/path"] == "/metrics"
    assert _container_port(_main(dep), int(ann["prometheus.io/port"])) is not None
    if not _is_gateway(dep):
        assert "/metrics" in _service_routes()


def test_services_target_container_ports() -> None:
    for svc in _of_kind("Service"):
        selector = svc["spec"]["selector"]
        targets = [d for d in DEPLOYMENTS
                   if _matches(selector, d["spec"]["template"]["metadata"]["labels"])]
        assert len(targets) == 1, f"Service {svc['metadata']['name']} selects {len(targets)}"
        for port in svc["spec"]["ports"]:
            cp = _container_port(_main(targets[0]), port.get("targetPort", port["port"]))
            assert cp is not None, (svc["metadata"]["name"], port)
            assert cp["containerPort"] == port["port"], "keep Service port = container port"


def test_deployment_selectors_match_their_pods() -> None:
    for dep in DEPLOYMENTS:
        assert _matches(dep["spec"]["selector"]["matchLabels"],
                        dep["spec"]["template"]["metadata"]["labels"])
        assert "replicas" not in dep["spec"], "the HPA owns the replica count"


def test_every_deployment_has_a_pdb_and_an_hpa() -> None:
    for dep in DEPLOYMENTS:
        labels = dep["spec"]["template"]["metadata"]["labels"]
        name = dep["metadata"]["name"]
        pdbs = [p for p in _of_kind("PodDisruptionBudget")
                if _matches(p["spec"]["selector"]["matchLabels"], labels)]
        assert len(pdbs) == 1, name
        hpas = [h for h in _of_kind("HorizontalPodAutoscaler")
                if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                   "name": name}]
        assert len(hpas) == 1, name
        (hpa,) = hpas
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
        assert any(m["resource"]["name"] == "cpu" for m in hpa["spec"]["metrics"])


# ---------------------------------------------------------------------------------- services


SERVICE_DEPLOYMENTS = [d for d in DEPLOYMENTS if not _is_gateway(d)]
SERVICE_IDS = [d["metadata"]["name"] for d in SERVICE_DEPLOYMENTS]


def _pyproject(service: str) -> dict:
    path = ROOT / "services" / service / "pyproject.toml"
    assert path.is_file(), f"no services/{service}/pyproject.toml"
    return tomllib.loads(path.read_text())


@pytest.mark.parametrize("dep", SERVICE_DEPLOYMENTS, ids=SERVICE_IDS)
def test_service_image_matches_a_workspace_package_with_its_console_script(dep: dict) -> None:
    name = dep["metadata"]["name"]
    project = _pyproject(name)["project"]
    assert project["name"] == f"crm-{name}"
    assert f"crm-{name}" in project.get("scripts", {})
    for c in _containers(dep):
        assert c["image"].rsplit(":", 1)[0].endswith(f"/crm-{name}"), c["image"]
        assert "command" not in c, "the image's entry point is crm-<service>; set args only"
        assert c["args"][0] in {"serve", "migrate"}
    assert _main(dep)["args"] == ["serve"]
    (init,) = _pod(dep)["initContainers"]
    assert init["args"] == ["migrate"]
    assert init["image"] == _main(dep)["image"], "migrate with the code that will serve"


@pytest.mark.parametrize("dep", SERVICE_DEPLOYMENTS, ids=SERVICE_IDS)
def test_service_env_covers_the_conventions(dep: dict) -> None:
    env = {e["name"]: e for e in _main(dep)["env"]}
    required = {"CRM_ENV", "SERVICE_HOST", "SERVICE_PORT", "DATABASE_URL", "AMQP_URL",
                "EVENTS_EXCHANGE", "JWT_PUBLIC_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE"}
    assert required <= env.keys(), required - env.keys()
    name = dep["metadata"]["name"]
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == f"{name}-db"
    assert "secretKeyRef" in env["AMQP_URL"]["valueFrom"], "AMQP_URL carries credentials"
    assert CONFIGMAPS["crm-config"]["data"]["CRM_ENV"] == "production"
    db_url = SECRETS[f"{name}-db"]["stringData"]["DATABASE_URL"]
    assert db_url.startswith("postgresql+asyncpg://") and db_url.endswith(f"/crm_{name}")


def test_gateway_env() -> None:
    env = _gateway_env()
    # the hive-gateway CLI reads these and they override the config's GATEWAY_*
    for forbidden in ("PORT", "HOST", "FORK", "CONFIG_PATH", "POLLING"):
        assert forbidden not in env, forbidden
    level = env.get("LOG_LEVEL")
    if level is not None:
        value = level.get("value")
        if value is None:
            r = level["valueFrom"]["configMapKeyRef"]
            value = CONFIGMAPS[r["name"]]["data"][r["key"]]
        assert value == value.lower(), "Hive Gateway exits on an upper-case LOG_LEVEL"
    assert "JWT_PUBLIC_KEY_FILE" in env
    # one <NAME>_URL per subgraph, pointing at that subgraph's in-cluster Service
    subgraphs = json.loads((ROOT / "gateway/subgraphs.json").read_text())
    for sg in subgraphs:
        _assert_gateway_url(env, sg["name"])


def _gateway_env() -> dict[str, dict]:
    (gw,) = [d for d in DEPLOYMENTS if _is_gateway(d)]
    return {e["name"]: e for e in _main(gw)["env"]}


def _assert_gateway_url(env: dict[str, dict], name: str) -> None:
    """The gateway's <NAME>_URL for subgraph ``name`` is its in-cluster Service's /graphql."""
    var = re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_URL"
    assert var in env, f"gateway has no {var} for subgraph {name}"
    url = urlparse(env[var]["value"])
    host = url.hostname or ""
    assert host == f"{name}.{NAMESPACE}.svc.cluster.local", host
    assert url.path == "/graphql"
    svc = _named("Service")[name]
    assert url.port in {p["port"] for p in svc["spec"]["ports"]}


def test_gateway_has_a_url_for_every_deployed_subgraph() -> None:
    """Also for a subgraph deployed before it is composed into the supergraph (and so before it is
    in gateway/subgraphs.json): the gateway ignores the variable until then."""
    env = _gateway_env()
    subgraphs = [d for d in SERVICE_DEPLOYMENTS
                 if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
                 == "subgraph"]
    assert subgraphs
    for dep in subgraphs:
        _assert_gateway_url(env, dep["metadata"]["name"])


def _runnable_workspace_services() -> set[str]:
    """The workspace's services that run as a process: services/<name>/pyproject.toml declares the
    console script crm-<name> (a domain-only package would have none)."""
    names: set[str] = set()
    for path in sorted((ROOT / "services").glob("*/pyproject.toml")):
        scripts = tomllib.loads(path.read_text())["project"].get("scripts", {})
        if f"crm-{path.parent.name}" in scripts:
            names.add(path.parent.name)
    return names


def test_every_runnable_service_is_deployed() -> None:
    runnable = _runnable_workspace_services()
    assert {"clients", "activities", "tasks", "pricing", "analytics"} <= runnable, runnable
    missing = runnable - set(SERVICE_IDS)
    assert not missing, f"services with a console script but no manifest in deploy/k8s: {missing}"
    for name in runnable:
        assert name in _named("Service"), name
        assert f"{name}-db" in SECRETS, f"no {name}-db in the manifests nor {SECRETS_EXAMPLE}"


def _convention_ports() -> dict[str, int]:
    """The services' ports as docs/conventions.md lists them ("| clients service | 8101 |")."""
    text = (ROOT / "docs" / "conventions.md").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^\| (\w+) service \| (\d+)", text, re.M)}


@pytest.mark.parametrize("dep", SERVICE_DEPLOYMENTS, ids=SERVICE_IDS)
def test_service_port_is_the_conventional_one(dep: dict) -> None:
    from crm_dev.workspace import SERVICES

    name = dep["metadata"]["name"]
    ports = _convention_ports()
    assert name in ports, f"docs/conventions.md lists no port for {name}"
    env = {e["name"]: e.get("value") for e in _main(dep)["env"]}
    assert int(env["SERVICE_PORT"]) == ports[name]
    assert _main(dep)["ports"][0]["containerPort"] == ports[name]
    for service in SERVICES:  # ./crm up's registry, where the service is listed already
        if service.name == name:
            assert service.port == ports[name], service


#: services that consume the ERP's own exchange (ERP_EXCHANGE), besides crm.events
ERP_CONSUMERS = {"analytics", "pricing"}


def test_exchanges_are_the_event_catalogues() -> None:
    catalogue = yaml.safe_load((ROOT / "events" / "asyncapi.yaml").read_text())
    exchanges: dict[str, set[str]] = {}
    for channel in catalogue["channels"].values():
        exchanges.setdefault(channel["address"].split(".")[0], set()).add(
            channel["bindings"]["amqp"]["exchange"]["name"])
    data = CONFIGMAPS["crm-config"]["data"]
    assert exchanges["crm"] == {data["EVENTS_EXCHANGE"]}
    assert exchanges["erp"] == {data["ERP_EXCHANGE"]}
    deployments = {d["metadata"]["name"]: d for d in SERVICE_DEPLOYMENTS}
    assert ERP_CONSUMERS <= deployments.keys()
    for name, dep in deployments.items():
        env = {e["name"]: e for e in _main(dep)["env"]}
        if name in ERP_CONSUMERS:
            assert env["ERP_EXCHANGE"]["valueFrom"]["configMapKeyRef"] == {
                "name": "crm-config", "key": "ERP_EXCHANGE"}, name
        else:
            assert "ERP_EXCHANGE" not in env, name


#: services that serve a route of their own through the ingress (ingress.yaml), not via the gateway
PUBLIC_ROUTES = {"tasks": "/attachments/", "activities": "/calendar/", "pricing": "/exports/",
                 "clients": "/inventory/", "analytics": "/report-files/"}
INGRESS_NAMESPACE = {"kubernetes.io/metadata.name": "ingress-nginx"}


def test_network_policies_admit_only_the_gateway_to_services() -> None:
    policies = _of_kind("NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    assert deny and "Ingress" in deny[0]["spec"]["policyTypes"], "no default-deny ingress"
    (gw,) = [d for d in DEPLOYMENTS if _is_gateway(d)]
    gw_labels = gw["spec"]["template"]["metadata"]["labels"]
    for dep in SERVICE_DEPLOYMENTS:
        labels = dep["spec"]["template"]["metadata"]["labels"]
        selecting = [p for p in policies if p["spec"]["podSelector"]
                     and _matches(p["spec"]["podSelector"]["matchLabels"], labels)]
        assert selecting, f"no policy admits anything to {dep['metadata']['name']}"
        from_gateway = False
        for policy in selecting:
            for rule in policy["spec"]["ingress"]:
                assert rule.get("from"), "a rule without `from` admits everyone"
                for peer in rule["from"]:
                    assert "ipBlock" not in peer
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        # a pod peer in this namespace: only the gateway
                        assert _matches(peer["podSelector"]["matchLabels"], gw_labels), peer
                        from_gateway = True
                    elif peer["namespaceSelector"]["matchLabels"] == INGRESS_NAMESPACE:
                        # the ingress controller, only to a service with a public route
                        assert dep["metadata"]["name"] in PUBLIC_ROUTES, peer
                    else:
                        # a namespace peer: only the monitoring namespace (Prometheus)
                        assert peer["namespaceSelector"]["matchLabels"] == {
                            "kubernetes.io/metadata.name": "monitoring"}, peer
                for port in rule["ports"]:
                    assert _container_port(_main(dep), port["port"]) is not None, port
        assert from_gateway


def test_the_ingress_routes_the_api_and_the_public_routes() -> None:
    (ingress,) = _of_kind("Ingress")
    services = {svc["metadata"]["name"]: svc for svc in _of_kind("Service")}
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"] for p in rule["http"]["paths"]}
    assert routes["/graphql"]["name"] == "gateway"
    for name, path in PUBLIC_ROUTES.items():
        assert routes[path]["name"] == name
    for backend in routes.values():
        ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
        assert backend["port"]["name"] in ports
    # the base URLs the services sign and print are the ingress host, the paths unchanged
    host = f"https://{rule['host']}"
    env = {d["metadata"]["name"]: {e["name"]: e.get("value") for e in _main(d).get("env", [])}
           for d in SERVICE_DEPLOYMENTS}
    assert env["tasks"]["PUBLIC_BASE_URL"] == host
    assert env["activities"]["CALENDAR_BASE_URL"] == host
    assert env["pricing"]["PUBLIC_BASE_URL"] == host
    assert env["analytics"]["PUBLIC_BASE_URL"] == host
    admitted = {p["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
                for p in _of_kind("NetworkPolicy")
                if any(peer.get("namespaceSelector", {}).get("matchLabels") == INGRESS_NAMESPACE
                       for r in p["spec"].get("ingress", []) for peer in r.get("from", []))}
    assert admitted == set(PUBLIC_ROUTES)


def test_clients_yaml_is_a_template_for_a_new_service(tmp_path: Path) -> None:
    """deploy/README.md: a new service is `sed s/clients/NAME/; s/8101/PORT/` of clients.yaml."""
    text = (K8S / "clients.yaml").read_text()
    copied = _load_str(text.replace("clients", "activities").replace("8101", "8102"))
    kinds = sorted(d["kind"] for d in copied)
    assert kinds == sorted(d["kind"] for d in DOCS["clients.yaml"])
    (dep,) = [d for d in copied if d["kind"] == "Deployment"]
    leftovers = [line for line in yaml.safe_dump(copied).splitlines()
                 if "clients" in line or "8101" in line]
    assert not leftovers, leftovers
    assert _main(dep)["ports"][0]["containerPort"] == 8102
    assert dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == (
        "subgraph"), "the network policy admits subgraphs by this label"


def _load_str(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


# --------------------------------------------------------------------------------- Dockerfiles


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    buf = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        lines.append(buf + stripped)
        buf = ""
    out = []
    for line in lines:
        instr, _, args = line.partition(" ")
        out.append((instr.upper(), args.strip()))
    return out


PY_DOCKERFILE = DOCKER / "python-service.Dockerfile"
GW_DOCKERFILE = DOCKER / "gateway.Dockerfile"


def test_python_dockerfile_syncs_the_frozen_lock_of_one_package() -> None:
    instrs = _instructions(PY_DOCKERFILE)
    runs = [a for i, a in instrs if i == "RUN"]
    (sync,) = [r for r in runs if "uv sync" in r]
    flags = sync.split()
    assert "--frozen" in flags, sync
    assert "--no-dev" in flags, sync
    assert "--package" in flags and flags[flags.index("--package") + 1] == "crm-${SERVICE}"
    assert any(re.search(r"pip install .*\buv\b", r) for r in runs)
    froms = [a for i, a in instrs if i == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    args = dict(a.split("=", 1) for i, a in instrs if i == "ARG" and "=" in a)
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert all(f.split()[0] == "${PYTHON_IMAGE}" for f in froms)
    env = " ".join(a for i, a in instrs if i == "ENV")
    assert "SERVICE_HOST=0.0.0.0" in env
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in env
    assert "CRM_EVENT_CATALOGUE" not in PY_DOCKERFILE.read_text()


def test_python_dockerfile_runs_the_console_script_as_non_root() -> None:
    instrs = _instructions(PY_DOCKERFILE)
    users = [a for i, a in instrs if i == "USER"]
    assert users and users[-1].split(":")[0] == "10001"
    entry = [a for i, a in instrs if i == "ENTRYPOINT"][-1]
    cmd = [a for i, a in instrs if i == "CMD"][-1]
    assert entry == '["crm-service"]'
    assert cmd == '["serve"]'
    (link,) = [a for i, a in instrs if i == "RUN" and "crm-service" in a]
    assert "/app/.venv/bin/crm-${SERVICE}" in link
    # every service the manifests deploy has that console script in its pyproject.toml
    for dep in SERVICE_DEPLOYMENTS:
        name = dep["metadata"]["name"]
        assert f"crm-{name}" in _pyproject(name)["project"]["scripts"]


def test_gateway_dockerfile() -> None:
    instrs = _instructions(GW_DOCKERFILE)
    args = dict(a.split("=", 1) for i, a in instrs if i == "ARG" and "=" in a)
    assert args["NODE_IMAGE"] == "node:20-slim"
    runs = [a for i, a in instrs if i == "RUN"]
    assert any("npm ci" in r and "--omit=dev" in r for r in runs)
    copies = " ".join(a for i, a in instrs if i == "COPY")
    for f in ("gateway/gateway.config.ts", "gateway/supergraph.graphql",
              "gateway/package-lock.json"):
        assert f in copies
        assert (ROOT / f).is_file(), f
    env = " ".join(a for i, a in instrs if i == "ENV")
    assert "GATEWAY_HOST=0.0.0.0" in env
    assert not re.search(r"(^|\s)(PORT|HOST)=", env), "PORT/HOST override the gateway config"
    users = [a for i, a in instrs if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    entry = [a for i, a in instrs if i == "ENTRYPOINT"][-1]
    assert "hive-gateway" in entry


def _ignore_patterns(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_dockerignore_keeps_keys_and_local_state_out() -> None:
    """BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile; the context is the root."""
    py = _ignore_patterns(DOCKER / "python-service.Dockerfile.dockerignore")
    for pattern in (".git", ".crm", "**/.venv", "**/node_modules"):
        assert pattern in py, pattern
    # the workspace members and the lock must stay in the context
    for needed in ("uv.lock", "pyproject.toml", "libs", "services", "tools"):
        assert needed not in py
    gw = _ignore_patterns(DOCKER / "gateway.Dockerfile.dockerignore")
    assert gw[0] == "*", "the gateway image needs gateway/ only"
    copied = {src for i, a in _instructions(GW_DOCKERFILE)
              if i == "COPY" and not a.startswith("--from") for src in a.split()[:-1]}
    for f in copied:
        assert f"!{f}" in gw, f"{f} is COPYed but excluded from the context"


def test_readme_says_what_was_not_run() -> None:
    text = (ROOT / "deploy" / "README.md").read_text()
    assert "none of this has been built or applied" in text
    assert "kubectl apply -k deploy/k8s" in text
    assert "--build-arg SERVICE=clients" in text
