"""The ingest service in the cluster: agencies reach it, and only it, on its gRPC and HTTP
ports; it is probed like the others and holds only the keys it needs. (The generic checks of
tests/test_k8s_manifests.py cover it too: schemas, security context, env, databases.)"""

from __future__ import annotations

from tests.test_k8s_manifests import OVERLAYS, PRODUCTION, named, of_kind, overlay_params
from tests.test_k8s_ways_out import IDENTITY_PROVIDER


@overlay_params(OVERLAYS)
def test_ingest_serves_grpc_and_http_and_is_probed(overlay: str) -> None:
    deployment = named(overlay, "Deployment", "ingest")
    assert deployment is not None
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "services.ingest"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": 50070, "http": 8070, "metrics": 9464}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == 50070, probe
    service = named(overlay, "Service", "ingest")
    assert service is not None
    assert {p["name"] for p in service["spec"]["ports"]} == {"grpc", "http"}
    env = {e["name"]: e for e in container["env"]}
    # Hashes identity numbers like every service and opens no sealed data; it asks intake and
    # the departments what they know of a person, and answers the gateway, with the service token.
    assert env["IDENTITY_HASH_KEY"]["valueFrom"]["secretKeyRef"]["name"] == (
        "onedoor-identity-hash-key"
    )
    assert "PERSONAL_DATA_KEY" not in env
    assert env["SERVICE_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "onedoor-auth"
    assert "onedoor_ingest" in env["INGEST_DATABASE_URL"]["value"]


@overlay_params(PRODUCTION)
def test_agencies_sign_in_at_their_citys_identity_provider(overlay: str) -> None:
    data = _config_map(overlay, "onedoor-ingest")
    assert data["INGEST_DEV_TOKENS"] == "false"
    assert data["INGEST_OIDC_ISSUER"].startswith("https://")
    assert data["INGEST_OIDC_AUDIENCE"] == "urn:onedoor:ingest"
    gateway = _config_map(overlay, "onedoor-gateway")
    # The same city's directory as its staff's, and never the gateway's audience.
    host = data["INGEST_OIDC_ISSUER"].split("/")[2]
    assert host == gateway["GATEWAY_OIDC_ISSUER"].split("/")[2]
    assert data["INGEST_OIDC_AUDIENCE"] != gateway["GATEWAY_OIDC_AUDIENCE"]


def _config_map(overlay: str, name: str) -> dict[str, str]:
    """A generated ConfigMap's data (its name carries kustomize's hash suffix)."""
    [found] = [
        o
        for o in of_kind(overlay, "ConfigMap")
        if name in (o["metadata"]["name"], o["metadata"]["name"].rsplit("-", 1)[0])
    ]
    return dict(found["data"])


@overlay_params(PRODUCTION)
def test_agencies_reach_only_the_ingest_ports(overlay: str) -> None:
    policies = of_kind(overlay, "NetworkPolicy")
    ingest = next(p for p in policies if p["metadata"]["name"] == "ingest")
    assert ingest["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ingest"}}
    [rule] = ingest["spec"]["ingress"]
    assert "from" not in rule  # from anywhere: the agencies' networks
    assert sorted(p["port"] for p in rule["ports"]) == ["grpc", "http"]
    # Its ways out: the gRPC ports of intake, assistance and elderly (matching), PostgreSQL
    # and HTTPS to the identity provider that signs agencies' tokens (besides DNS and the
    # collector, the policies every pod has). Nothing else leaves the namespace.
    ways_out = {
        (
            tuple(sorted(_names(to) for to in rule.get("to", ()))),
            tuple(p["port"] for p in rule["ports"]),
        )
        for rule in ingest["spec"]["egress"]
    }
    assert ways_out == {
        (("assistance,elderly,intake",), ("grpc",)),
        (("cnpg:onedoor-pg",), (5432,)),
        ((f"ipBlock:{IDENTITY_PROVIDER}",), (443,)),
    }
    # Besides ingest, only the gateway admits callers from anywhere (the window front-ends):
    # an agency's network reaches no ledger, department, relay or router.
    for policy in policies:
        selector = policy["spec"].get("podSelector", {})
        names = selector.get("matchLabels", {}).get("app.kubernetes.io/name")
        for other in policy["spec"].get("ingress", []):
            if "from" not in other and names != "ingest":
                assert names == "gateway", f"{policy['metadata']['name']} admits anyone"


def _names(peer: dict) -> str:
    """A policy peer as the pods it selects: the app names, or the database cluster."""
    if "ipBlock" in peer:
        return f"ipBlock:{peer['ipBlock']['cidr']}"
    selector = peer["podSelector"]
    assert "namespaceSelector" not in peer, peer
    if "cnpg.io/cluster" in selector.get("matchLabels", {}):
        return f"cnpg:{selector['matchLabels']['cnpg.io/cluster']}"
    [expression] = selector["matchExpressions"]
    return ",".join(sorted(expression["values"]))
