"""``onedoor``: the platform's command line. Every command but ``token`` calls the gateway's HTTP
API; this module builds the parser, runs the chosen command and turns its failure into a
message, what to do next, and an exit code (see ``outcome``)."""

from __future__ import annotations

import argparse
import sys

from services.cli import (
    applications,
    audit,
    clerk,
    departments,
    forwards,
    gateway_client,
    login,
    migrate,
    push,
    settings,
    tables,
    tokens,
    warnings,
)
from services.cli.outcome import EXIT_CODES_HELP, CliError, GatewayError

ENVIRONMENT_HELP = """\
environment:
  ONEDOOR_GATEWAY    the gateway's HTTP address (default http://127.0.0.1:8080)
  ONEDOOR_TOKEN      the bearer token: `onedoor login` signs you in for one
                     (`onedoor token` makes one for local use)
  ONEDOOR_TRACE_URL  the trace viewer for `onedoor trace`, e.g. http://jaeger:16686
  ONEDOOR_INGEST     the ingest service for `onedoor push` (default http://127.0.0.1:8070)
  BUREAU_TIME_ZONE   the zone times are shown in (default Asia/Shanghai)"""

EXAMPLES = """\
examples:
  export ONEDOOR_TOKEN=$(onedoor login)
  export ONEDOOR_TOKEN=$(onedoor token --role window_clerk --jurisdiction 320585)
  onedoor submit dibao.json --wait
  onedoor status 320585-8D9TV-YJY6T
  onedoor --lang en status 320585-8D9TV-YJY6T
  onedoor matters
  onedoor supply 320585-8D9TV-YJY6T income_proof
  onedoor search                       # asks for the identity number, not echoed
  ONEDOOR_TOKEN=$(onedoor token --role officer --department assistance --jurisdiction 320585) \\
    onedoor decide 320585-8D9TV-YJY6T approve"""


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The options every command takes. On the subcommands their defaults are suppressed, so
    `onedoor --json status R` and `onedoor status R --json` both work and neither place
    overwrites the other with a default."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--gateway",
        metavar="URL",
        default=default(None),
        help="the gateway (default ONEDOOR_GATEWAY, else http://127.0.0.1:8080)",
    )
    parser.add_argument(
        "--token", default=default(None), help="bearer token (default ONEDOOR_TOKEN)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the API's JSON instead of tables, for scripts",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        default=default(gateway_client.DEFAULT_TIMEOUT_SECONDS),
        help="seconds to wait for each answer (default 30)",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="onedoor",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The onedoor platform's command line: submit and follow applications, "
        "work a department's queue, check the audit log. Tables for people; --json for "
        "scripts. Every command has --help with examples.",
        epilog=f"{EXAMPLES}\n\n{ENVIRONMENT_HELP}\n\n{EXIT_CODES_HELP}",
    )
    _global_options(root, suppress=False)
    root.add_argument(
        "--lang",
        choices=gateway_client.LANGUAGES,
        default=gateway_client.LANGUAGES[0],
        help="the language of what the platform says: notes, assessments (default zh-CN)",
    )
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    applications.register(commands, common)
    clerk.register(commands, common)
    departments.register(commands, common)
    audit.register(commands, common)
    forwards.register(commands, common)
    login.register(commands, common)
    tokens.register(commands)
    migrate.register(commands)
    push.register(commands, common)
    warnings.register(commands, common)
    return root


def _report(command: str, error: CliError, as_json: bool) -> None:
    # With --json a script still gets the API's error body on stdout to parse.
    if as_json and isinstance(error, GatewayError) and error.body is not None:
        tables.emit_json(error.body, sys.stdout)
    lines = [f"onedoor {command}: {tables.clean(error.message)}"]
    lines += [f"  {tables.clean(d)}" for d in error.details]
    if error.hint:
        lines.append(f"next: {error.hint}")
    print("\n".join(lines), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # The environment, read once: it fills the options not given on the command line.
    configured = settings.from_env()
    configured.keys.configure()
    args.gateway = args.gateway or configured.gateway
    args.token = args.token or configured.token
    args.clock = configured.clock
    tables.show_times_in(configured.clock)
    if args.command == "push":
        args.ingest = args.ingest or configured.ingest
        args.issuer = args.issuer or configured.issuer
        args.client_secret = configured.client_secret
    if args.command == "migrate":
        args.database_url = args.database_url or configured.databases[args.service]
    if hasattr(args, "trace_url"):
        args.trace_url = args.trace_url or configured.trace_url
    command = args.command + (f" {args.audit_command}" if args.command == "audit" else "")
    if args.command == "warnings":
        command += f" {args.warnings_command}"
    try:
        return int(args.run(args))
    except CliError as error:
        _report(command, error, bool(getattr(args, "json", False)))
        return int(error.code)
    except KeyboardInterrupt:
        print(f"onedoor {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
