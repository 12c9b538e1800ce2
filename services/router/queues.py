"""How the router's queues are declared (``ROUTER_QUEUE_TYPE``).

- ``classic`` (the default): one broker node holds each queue, as on a developer's machine.
- ``quorum``: each queue is replicated over the cluster's nodes (Raft), so losing one node
  loses no event; production sets it. ``ROUTER_QUEUE_DELIVERY_LIMIT`` then bounds how often
  RabbitMQ redelivers one event before dropping it (``0``: the broker's default, which is no
  limit on RabbitMQ 3 and 20 deliveries on RabbitMQ 4). The router requeues an event for as
  long as a service it calls is unavailable, about once a second, so a low limit loses events.

RabbitMQ refuses to redeclare an existing queue with another type or limit
(PRECONDITION_FAILED) and the router stops; deleting the old queues (or using a new virtual
host) comes first, see deploy/k8s/README.md.

Read once into the router's settings (settings.py), which fail at start-up on a bad value.
No nameko here, so that the tests import it without eventlet.
"""

from __future__ import annotations

from services.common.config import ConfigError

QUEUE_TYPES = ("classic", "quorum")


def queue_arguments(queue_type: str, limit: int) -> dict[str, str | int]:
    """The arguments every router queue is declared with, for ``ROUTER_QUEUE_TYPE`` and
    ``ROUTER_QUEUE_DELIVERY_LIMIT``."""
    if queue_type not in QUEUE_TYPES:
        raise ConfigError(f"ROUTER_QUEUE_TYPE={queue_type!r}: use one of {', '.join(QUEUE_TYPES)}")
    if limit < 0:
        raise ConfigError(f"ROUTER_QUEUE_DELIVERY_LIMIT={limit}: use 0 (the broker's) or more")
    if queue_type == "classic":
        if limit:
            raise ConfigError("ROUTER_QUEUE_DELIVERY_LIMIT needs ROUTER_QUEUE_TYPE=quorum")
        # No x-queue-type at all: queues declared before this setting existed stay equivalent.
        return {}
    arguments: dict[str, str | int] = {"x-queue-type": "quorum"}
    if limit:
        arguments["x-delivery-limit"] = limit
    return arguments
