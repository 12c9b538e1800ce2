"""Several bureaus on one machine, federated over mutual TLS: `make run-cities` and the
federation tests. Each city gets its own authority, certificate, peers file, ports, databases
and RabbitMQ virtual host."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.launcher.certificates import Authority, authority, issue
from services.launcher.platform import Platform, Ports, create_vhost, delete_vhost, drop_databases


@dataclass
class City:
    name: str
    division: str
    platform: Platform
    authority: Authority
    vhost: str

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.platform.ports.gateway_http}"


def prepare(
    base: Path,
    divisions: Mapping[str, str],
    ports: Mapping[str, Ports],
    extra_env: Mapping[str, str],
    tag: str = "",
) -> dict[str, City]:
    """Builds (but does not start) one platform per city, every city a peer of every other."""
    tag = tag or str(os.getpid())
    authorities = {name: authority(name) for name in divisions}
    for name, ca in authorities.items():
        (base / f"{name}-ca.pem").write_bytes(ca.pem)
    cities = {}
    for name, division in divisions.items():
        cert, key = issue(authorities[name], name, base / name)
        peers = "\n".join(
            f'[peers.{other}]\nprefixes = ["{divisions[other]}"]\n'
            f'address = "127.0.0.1:{ports[other].gateway_peer}"\nca_file = "{base / f"{other}-ca.pem"}"\n'
            for other in divisions
            if other != name
        )
        (base / f"{name}-peers.toml").write_text(peers)
        vhost = f"onedoor-{name}-{tag}"
        platform = Platform(
            log_dir=base / name / "logs",
            ports=ports[name],
            database_prefix=f"onedoor_{name}_{tag}",
            amqp_uri=create_vhost(vhost),
            jurisdiction=division,
            extra_env={
                "GATEWAY_NAME": name,
                "GATEWAY_TLS_CERT_FILE": str(cert),
                "GATEWAY_TLS_KEY_FILE": str(key),
                "GATEWAY_PEERS_FILE": str(base / f"{name}-peers.toml"),
                **extra_env,
            },
        )
        cities[name] = City(name, division, platform, authorities[name], vhost)
    return cities


def start(cities: Mapping[str, City], timeout: float = 120.0, progress: bool = False) -> None:
    for city in cities.values():
        city.platform.start_all()
    for city in cities.values():
        if progress:
            print(f"==> waiting for {city.name} ({city.division})", flush=True)
        city.platform.wait_healthy(timeout=timeout, progress=progress)


def tear_down(cities: Mapping[str, City], keep_data: bool = False) -> None:
    for city in cities.values():
        city.platform.stop()
        if not keep_data:
            drop_databases(city.platform.database_prefix)
        delete_vhost(city.vhost)
