"""``make run``: starts the whole platform, submits a demo application, serves until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

from services.cli.tables import moment
from services.common.telemetry import RECEIPT_KEY
from services.launcher import settings
from services.launcher.cities import City, prepare, start, tear_down
from services.launcher.demo import forward_and_decide, submit_and_follow
from services.launcher.identity_provider import (
    IdentityProvider,
    SignInError,
    demo_agencies,
    demo_password,
    demo_staff,
    sign_in,
)
from services.launcher.platform import ROOT, Platform, PlatformError, Ports
from services.launcher.trace_sink import TraceSink

# Where `make run`'s identity provider listens (its issuer is http://127.0.0.1:8085).
IDENTITY_PROVIDER_PORT = 8085


def _identity_provider(console_http_port: int) -> IdentityProvider:
    # The keys stay in .run/ across runs, so a token the last run printed still verifies after a
    # restart (the provider's sessions do not survive one: it keeps them in memory).
    return IdentityProvider(
        port=IDENTITY_PROVIDER_PORT,
        keys_file=ROOT / ".run" / "identity-provider" / "keys.json",
        log_path=ROOT / ".run" / "logs" / "identity-provider.log",
        console_origins=(
            f"http://127.0.0.1:{console_http_port}",
            f"http://localhost:{console_http_port}",
        ),
    )


def _print_sign_in(provider: IdentityProvider, base: str) -> str:
    """Prints how staff sign in; returns a clerk's access token from the provider."""
    print(f"Staff sign in at the identity provider {provider.issuer} (node-oidc-provider):")
    for person in demo_staff():
        print(f"  {person['username']:<19} {person['role']:<13} {person.get('department', '')}")
    print(f"  every one with the password {demo_password()}")
    print("Agencies' clients get tokens for ingest by client credentials (onedoor push):")
    for agency in demo_agencies():
        print(f"  {agency['client_id']:<32} secret {agency['client_secret']}")
    print(f"  onedoor push FILE --issuer {provider.issuer} --client-id CLIENT")
    try:
        token = str(sign_in(provider.issuer, "clerk", demo_password(), base)["access_token"])
    except (SignInError, OSError) as error:
        print(f"!! the demo clerk could not sign in: {error}", file=sys.stderr)
        return ""
    print()
    print("The clerk's access token from the provider, valid 1 hour (onedoor login for yours):")
    print(f"  export TOKEN='{token}'")
    return token


def _said(entry: dict[str, Any]) -> str:
    """What a timeline entry says, as the gateway rendered it (in the bureau's language, as
    the demo names none); the note of an entry that predates texts."""
    return str(entry.get("message", {}).get("text") or entry.get("note", ""))


def _print_demo(platform: Platform, sink: TraceSink, provider: IdentityProvider) -> None:
    base = f"http://127.0.0.1:{platform.ports.gateway_http}"
    print("==> submitting a demo dibao application over HTTP", flush=True)
    accepted, application = submit_and_follow(base)
    print(f"    receipt     {accepted['receipt']}")
    print(f"    status      {application['status']}")
    print(f"    departments {', '.join(accepted['departments'])}")
    unit = "working days" if "WORKING" in application.get("timeLimitUnit", "") else "days"
    provisional = (
        ", provisional: next year's holiday schedule is not known yet"
        if application.get("deadlineProvisional")
        else ""
    )
    print(
        f"    deadline    {application['deadlineDate']} (its last day, local time; "
        f"{application.get('daysLeft', 0)} {unit} left{provisional})"
    )
    print(f"    trace id    {accepted['traceId']}")
    print("    timeline:")
    for entry in application["timeline"]:
        who = entry.get("department") or "window"
        print(
            f"      {moment(entry['createTime'])}  {entry['kind'].removeprefix('TIMELINE_ENTRY_KIND_'):<10} {who:<10} {_said(entry)}"
        )
    time.sleep(1.5)  # the processes export spans in batches
    spans = sink.spans(accepted["traceId"])
    if spans:
        marked = sum(1 for s in spans if s.attributes.get(RECEIPT_KEY) == accepted["receipt"])
        services = sorted({s.service for s in spans})
        print(
            f"==> trace {accepted['traceId']}: {len(spans)} spans from {', '.join(services)}; "
            f"{marked} carry {RECEIPT_KEY}={accepted['receipt']}"
        )
        sql: dict[str, int] = {}
        for span in spans:
            if "db.system.name" in span.attributes:
                sql[span.service] = sql.get(span.service, 0) + 1
                continue
            print(f"      {span.service:<11} {span.kind:<9} {span.name[:70]}")
        print(
            "      and SQL spans: "
            + ", ".join(f"{service} {count}" for service, count in sorted(sql.items()))
        )
    print()
    _print_sign_in(provider, base)
    print("  (self-issued development tokens work too, here only: .venv/bin/onedoor token --help)")
    print()
    print(f"The window console: {base}/console/ (sign in as clerk, or any of the staff above)")
    print()
    print("Try it yourself:")
    print(f"  ONEDOOR_TOKEN=$TOKEN .venv/bin/onedoor status {accepted['receipt']}")
    auth_header = '-H "Authorization: Bearer $TOKEN"'
    print(f"  curl -s {auth_header} {base}/v1/applications/{accepted['receipt']}")
    print(f"  curl -s {auth_header} {base}/v1/matters")
    print(
        f'  curl -s -H "Authorization: Bearer $(.venv/bin/onedoor token --role operator --jurisdiction 320585)" {base}/healthz'
    )
    print(f"  grpcurl -plaintext 127.0.0.1:{platform.ports.gateway_grpc} list")
    print()
    ingest = f"http://127.0.0.1:{platform.ports.ingest_http}"
    print(
        f"Other agencies push records to the ingest service ({ingest}, gRPC on {platform.ports.ingest}):"
    )
    print(
        "  ONEDOOR_TOKEN=$(.venv/bin/onedoor token --role agency --agency medical_insurance "
        "--jurisdiction 320585) \\"
    )
    print(f"    .venv/bin/onedoor push --ingest {ingest} expenses.csv")
    print(
        "  (CSV header: record_id,id_number,kind,settled_on,total_fen,out_of_pocket_fen; "
        ".venv/bin/onedoor push --help)"
    )
    print()
    print("Metrics, as Prometheus text, one port per process:")
    for name in platform.ports.metrics:
        print(f"  {name:<10} {platform.metrics_url(name)}")
    print(f"  curl -s {platform.metrics_url('gateway')} | grep '^onedoor_applications'")
    logs = platform.log_dir.relative_to(ROOT)
    print()
    print(f"Logs are JSON lines in {logs}/, one file per process; to read them:")
    print(f"  jq -r '[.time, .level, .logger, .message] | join(\" \")' {logs}/gateway.log")
    print(f'  jq -c \'select(.level == "WARNING" or .level == "ERROR")\' {logs}/*.log')
    print(f"  jq -c 'select(.receipt == \"{accepted['receipt']}\")' {logs}/*.log")
    print("Ctrl-C stops everything.", flush=True)


def _stop_on_signals() -> threading.Event:
    """Set by Ctrl-C or SIGTERM: the supervisor then stops everything it started."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _print_cities(cities: dict[str, City], sink: TraceSink) -> None:
    taicang, kunshan = cities["taicang"], cities["kunshan"]
    print("==> a Kunshan resident asks for temporary assistance at the Taicang window", flush=True)
    accepted, done = forward_and_decide(taicang.http, kunshan.http)
    print(f"    Taicang receipt {accepted['receipt']}, status at acceptance {accepted['status']}")
    print(f"    Kunshan receipt {done['forwarding']['remoteReceipt']}; Kunshan approved it")
    print(f"    status at the Taicang window: {done['status']}; trace id {accepted['traceId']}")
    for entry in done["timeline"]:
        kind = entry["kind"].removeprefix("TIMELINE_ENTRY_KIND_")
        print(f"      {entry['createTime']}  {kind:<10} {_said(entry)}")
    time.sleep(1.5)  # the processes export spans in batches
    receipts = sorted(
        {str(s.attributes.get(RECEIPT_KEY)) for s in sink.spans(accepted["traceId"])} - {"None"}
    )
    print(f"==> one trace across both cities; its spans carry the receipts {receipts}")
    print()
    for city in cities.values():
        grpc_port = city.platform.ports.gateway_grpc
        print(f"  {city.name:<8} {city.division}  HTTP {city.http}  gRPC 127.0.0.1:{grpc_port}")
    print("Logs are in .run/cities/<city>/logs/. Ctrl-C stops both cities.", flush=True)


def run_cities(sink: TraceSink, extra_env: dict[str, str]) -> int:
    """Taicang on the usual ports, Kunshan on free ones, each the other's peer."""
    base = ROOT / ".run" / "cities"
    base.mkdir(parents=True, exist_ok=True)
    ports = {"taicang": Ports(), "kunshan": Ports.free()}
    cities = prepare(
        base, {"taicang": "320585", "kunshan": "320583"}, ports, extra_env, tag="local"
    )
    stop = _stop_on_signals()
    try:
        start(cities, progress=True)
        _print_cities(cities, sink)
        while not stop.is_set():
            time.sleep(0.5)
        return 0
    except PlatformError as error:
        print(f"!! {error}", file=sys.stderr)
        return 1
    finally:
        print("\n==> stopping both cities", flush=True)
        tear_down(cities, keep_data=True)
        sink.stop()


def main() -> int:
    settings.from_env().keys.configure()
    parser = argparse.ArgumentParser(description="Run the onedoor platform on this machine.")
    parser.add_argument(
        "--demo", action="store_true", help="submit a demo application once healthy"
    )
    parser.add_argument(
        "--cities",
        action="store_true",
        help="run Taicang and Kunshan side by side, federated over mutual TLS",
    )
    args = parser.parse_args()

    log_dir = ROOT / ".run" / "logs"
    sink = TraceSink()
    sink.start()
    extra_env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "500",
    }
    if args.cities:
        return run_cities(sink, extra_env)
    provider = _identity_provider(Ports().gateway_http)
    extra_env.update(provider.gateway_env())
    extra_env.update(provider.ingest_env())
    platform = Platform(log_dir=log_dir, extra_env=extra_env)
    stop = _stop_on_signals()
    print(
        f"==> starting the identity provider, {', '.join(s.name for s in platform.specs)} (logs in {log_dir.relative_to(ROOT)}/)",
        flush=True,
    )
    try:
        provider.start()
        provider.wait_ready()
        platform.start_all()
        print("==> waiting until every process reports SERVING", flush=True)
        platform.wait_healthy(timeout=90, progress=True)
        if args.demo:
            _print_demo(platform, sink, provider)
        while not stop.is_set():
            if provider.process is not None and provider.process.poll() is not None:
                print(f"!! the identity provider exited; see {provider.log_path}", file=sys.stderr)
                return 1
            for name, code in platform.exited().items():
                print(
                    f"!! {name} exited with code {code}; see {platform.log_path(name)}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)
        return 0
    except PlatformError as error:
        print(f"!! {error}", file=sys.stderr)
        print(
            "!! Check that PostgreSQL and RabbitMQ run (make infra) and that the ports are free.",
            file=sys.stderr,
        )
        return 1
    finally:
        print("\n==> stopping every process", flush=True)
        platform.stop()
        provider.stop()
        sink.stop()


if __name__ == "__main__":
    sys.exit(main())
