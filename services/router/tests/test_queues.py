"""ROUTER_QUEUE_TYPE and ROUTER_QUEUE_DELIVERY_LIMIT: what the router's queues are declared with."""

import pytest

from services.common.config import ConfigError
from services.router import settings


def arguments(**environ: str) -> object:
    return settings.from_env(environ).queue_arguments


def test_classic_by_default_with_no_queue_type_argument():
    assert arguments() == {}
    assert arguments(ROUTER_QUEUE_TYPE="classic") == {}


def test_quorum_with_and_without_a_delivery_limit():
    assert arguments(ROUTER_QUEUE_TYPE="quorum") == {"x-queue-type": "quorum"}
    assert arguments(ROUTER_QUEUE_TYPE="quorum", ROUTER_QUEUE_DELIVERY_LIMIT="100000") == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 100000,
    }


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
def test_bad_settings_stop_the_router_naming_the_variable(queue_type, limit, named):
    with pytest.raises(ConfigError, match=named):
        arguments(ROUTER_QUEUE_TYPE=queue_type, ROUTER_QUEUE_DELIVERY_LIMIT=limit)
