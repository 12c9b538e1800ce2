"""The process's OpenTelemetry resource: equal to the SDK's own, and hashed without
serialising its attributes again (the exporter hashes it once per span)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk import resources

from services.common.telemetry import process_resource


def test_it_is_the_resource_the_sdk_would_make():
    made = process_resource("intake")
    plain = resources.Resource.create({"service.name": "intake", "service.namespace": "onedoor"})
    assert made == plain
    assert hash(made) == hash(plain)
    assert made.attributes["service.name"] == "intake"


def test_hashing_it_again_serialises_nothing(monkeypatch: pytest.MonkeyPatch):
    made = process_resource("router")
    first = hash(made)

    def serialise(*args: object, **kwargs: object) -> str:
        raise AssertionError("the resource was serialised to be hashed")

    monkeypatch.setattr(resources, "dumps", serialise)
    assert [hash(made) for _ in range(3)] == [first] * 3
    with pytest.raises(AssertionError, match="serialised"):
        hash(resources.Resource.create({"service.name": "router"}))
