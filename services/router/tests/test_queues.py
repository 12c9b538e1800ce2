"""ROUTER_QUEUE_TYPE and ROUTER_QUEUE_DELIVERY_LIMIT: what the router's queues are declared with."""

import pytest

from services.common.config import ConfigError
from services.router.queues import queue_arguments


def test_classic_by_default_with_no_queue_type_argument(monkeypatch):
    monkeypatch.delenv("ROUTER_QUEUE_TYPE", raising=False)
    monkeypatch.delenv("ROUTER_QUEUE_DELIVERY_LIMIT", raising=False)
    assert queue_arguments() == {}
    monkeypatch.setenv("ROUTER_QUEUE_TYPE", "classic")
    assert queue_arguments() == {}


def test_quorum_with_and_without_a_delivery_limit(monkeypatch):
    monkeypatch.setenv("ROUTER_QUEUE_TYPE", "quorum")
    monkeypatch.delenv("ROUTER_QUEUE_DELIVERY_LIMIT", raising=False)
    assert queue_arguments() == {"x-queue-type": "quorum"}
    monkeypatch.setenv("ROUTER_QUEUE_DELIVERY_LIMIT", "100000")
    assert queue_arguments() == {"x-queue-type": "quorum", "x-delivery-limit": 100000}


@pytest.mark.parametrize(
    ("queue_type", "limit", "named"),
    [
        ("stream", "", "ROUTER_QUEUE_TYPE"),
        ("Quorum", "", "ROUTER_QUEUE_TYPE"),
        ("quorum", "-1", "ROUTER_QUEUE_DELIVERY_LIMIT"),
        ("quorum", "many", "ROUTER_QUEUE_DELIVERY_LIMIT"),
        ("classic", "20", "ROUTER_QUEUE_DELIVERY_LIMIT"),
    ],
)
def test_bad_settings_stop_the_router_naming_the_variable(monkeypatch, queue_type, limit, named):
    monkeypatch.setenv("ROUTER_QUEUE_TYPE", queue_type)
    monkeypatch.setenv("ROUTER_QUEUE_DELIVERY_LIMIT", limit)
    with pytest.raises(ConfigError, match=named):
        queue_arguments()
