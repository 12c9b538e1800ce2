"""A platform stopped as make run's Ctrl-C stops it logs no warning about its own going: the
callers stop before the services they call (so none says it cannot reach them), and nameko is
left no thread to kill."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from services.launcher import demo
from services.launcher.platform import (
    Platform,
    Ports,
    create_vhost,
    delete_vhost,
    drop_databases,
)


def _said_after(log: Path, since: dt.datetime) -> list[dict[str, str]]:
    lines = []
    for text in log.read_text(errors="replace").splitlines():
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and dt.datetime.fromisoformat(line["time"]) >= since:
            lines.append(line)
    return lines


def test_a_stopped_platform_warns_of_nothing_while_it_stops(tmp_path: Path) -> None:
    vhost = f"onedoor-stop-{os.getpid()}"
    prefix = f"onedoor_stop_{os.getpid()}"
    platform = Platform(
        log_dir=tmp_path,
        ports=Ports.free(),
        database_prefix=prefix,
        amqp_uri=create_vhost(vhost),
    )
    try:
        platform.start_all()
        platform.wait_healthy(timeout=90)
        # Every connection in use: the router's and the notifier's to the services they call.
        _, shown = demo.submit_and_follow(
            f"http://127.0.0.1:{platform.ports.gateway_http}", wait_seconds=30
        )
        assert shown["status"] == "CASE_STATUS_ROUTED"
        stopping = dt.datetime.now(dt.UTC)
        platform.stop()
        said = {
            name: [
                f"{line['level']} {line['message']}"
                for line in _said_after(platform.log_path(name), stopping)
                if line.get("level") in ("WARNING", "ERROR", "CRITICAL")
            ]
            for name in platform.processes
        }
        assert {name: lines for name, lines in said.items() if lines} == {}
    finally:
        platform.stop()
        drop_databases(prefix)
        delete_vhost(vhost)
