"""The launcher's replicas (Platform.replicas), without starting anything: each replica after
the first listens on ports of its own and shares the rest; the gateway is given every intake
replica, each router one of them in turn."""

from __future__ import annotations

from pathlib import Path

from services.launcher.platform import Platform, Ports


def platform(**replicas: int) -> Platform:
    return Platform(log_dir=Path("/nonexistent"), ports=Ports.free(), replicas=replicas)


def test_without_replicas_every_process_once_and_nothing_of_its_own() -> None:
    plain = platform()
    names = [s.name for s in plain.specs]
    assert len(names) == len(set(names))
    assert "router-2" not in names
    assert all(plain.replica_env(name) == {} for name in names)


def test_a_replica_listens_on_ports_of_its_own_and_shares_the_rest() -> None:
    two = platform(router=2, intake=2)
    names = [s.name for s in two.specs]
    assert names.index("intake-2") == names.index("intake") + 1
    assert names.index("router-2") == names.index("router") + 1

    first, second = two.env("intake"), two.env("intake-2")
    assert first["INTAKE_GRPC_PORT"] != second["INTAKE_GRPC_PORT"]
    assert first["INTAKE_METRICS_PORT"] != second["INTAKE_METRICS_PORT"]
    assert first["INTAKE_DATABASE_URL"] == second["INTAKE_DATABASE_URL"]
    spec = next(s for s in two.specs if s.name == "intake-2")
    assert spec.health == ("grpc", int(second["INTAKE_GRPC_PORT"]))
    assert two.metrics_url("intake-2").endswith(f":{second['INTAKE_METRICS_PORT']}/metrics")

    routers = two.env("router"), two.env("router-2")
    assert routers[0]["ROUTER_HTTP_PORT"] != routers[1]["ROUTER_HTTP_PORT"]
    assert routers[0]["AMQP_URI"] == routers[1]["AMQP_URI"]


def test_the_gateway_is_given_every_intake_and_each_router_one_in_turn() -> None:
    two = platform(router=2, intake=2)
    intakes = [f"127.0.0.1:{two.env(name)['INTAKE_GRPC_PORT']}" for name in ("intake", "intake-2")]
    assert two.env("gateway")["INTAKE_ADDR"] == "ipv4:" + ",".join(intakes)
    assert [two.env(name)["INTAKE_ADDR"] for name in ("router", "router-2")] == intakes
    # Whoever else calls intake (one process each) is given the first.
    assert two.env("notifier")["INTAKE_ADDR"] == intakes[0]
