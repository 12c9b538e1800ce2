"""HTTPS out of the namespace, in production: the gateway and ingest reach the identity
provider, the notifier the SMS provider, each at its addresses only; no other process of the
platform's reaches either, so that the notifier alone can send a message (issue 17). The
addresses stand in the prod overlay as documentation ranges for an operator to set."""

from __future__ import annotations

from typing import Any

from tests.test_k8s_manifests import PRODUCTION, of_kind, overlay_params

# The prod overlay's stand-ins (RFC 5737 documentation ranges, reaching nothing).
IDENTITY_PROVIDER = "192.0.2.0/24"
SMS_PROVIDER = "198.51.100.0/24"
# The data stores' pods (CloudNativePG, RabbitMQ) talk to the Kubernetes API and the object
# store: not the platform's processes, which are what may send or sign in.
DATA_STORES = {"onedoor-pg", "onedoor-mq"}


def _https_out(policy: dict[str, Any]) -> list[set[str]]:
    """Per egress rule that allows 443, the address blocks it allows it to ({"*"}: any)."""
    found = []
    for rule in policy["spec"].get("egress", []):
        if not any(p.get("port") == 443 for p in rule.get("ports", [])):
            continue
        peers = rule.get("to")
        found.append({p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p} if peers else {"*"})
    return found


@overlay_params(PRODUCTION)
def test_only_the_notifier_reaches_the_sms_provider(overlay: str) -> None:
    reach: dict[str, set[str]] = {}
    for policy in of_kind(overlay, "NetworkPolicy"):
        name = policy["metadata"]["name"]
        blocks = set().union(*_https_out(policy)) if _https_out(policy) else set()
        if name in DATA_STORES or not blocks:
            continue
        # Nothing of the platform's has HTTPS to anywhere.
        assert "*" not in blocks, f"{name} may reach any address over HTTPS"
        reach[name] = blocks
    assert reach == {
        "gateway": {IDENTITY_PROVIDER},
        "ingest": {IDENTITY_PROVIDER},
        "notifier": {SMS_PROVIDER},
    }
