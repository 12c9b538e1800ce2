"""``onedoor push FILE``: an agency's batch of records (CSV, as agencies export, or JSON Lines)
sent to the ingest service as the file is read, with a progress line (records sent, records per
second) and the batch's report at the end. It talks to the ingest service (ONEDOOR_INGEST or
--ingest), not the gateway: agencies reach only ingest.

The agency's token is ONEDOOR_TOKEN, or, with ``--client-id``, one got from the bureau's
identity provider by the client-credentials grant: the secret comes from ONEDOOR_CLIENT_SECRET
or a prompt, never from an option (which the shell's history and the process list keep)."""

from __future__ import annotations

import argparse
import getpass
import http.client
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.cli import credentials, login, tables
from services.cli.outcome import CliError, ExitCode, from_error_body
from services.cli.progress import Progress
from services.cli.settings import DEFAULT_INGEST

ROUTE = "/v1/agency-records:batch"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
PIECE = 64 * 1024


class _Sending:
    """The file in pieces as the request sends it, counting its lines as they leave."""

    def __init__(self, path: Path, progress: Progress) -> None:
        self.path = path
        self.progress = progress
        self.lines = 0
        self.started = time.monotonic()

    def rate(self) -> float:
        return self.lines / max(time.monotonic() - self.started, 1e-6)

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            while piece := handle.read(PIECE):
                self.lines += piece.count(b"\n")
                self.progress.update(
                    f"{self.path.name}: {self.lines:,} lines sent, {self.rate():,.0f} records/s"
                )
                yield piece


def _format_of(path: Path, given: str | None) -> str:
    found = given or _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise CliError(
            f"cannot tell the format of {path.name}",
            ExitCode.USAGE,
            hint="name it .csv or .jsonl, or say --format csv|jsonl",
        )
    return found


INGEST_AUDIENCE = "urn:onedoor:ingest"


def agency_token(args: argparse.Namespace) -> str:
    """The bearer token the push presents: the client's, signed in now, or ONEDOOR_TOKEN."""
    if not args.client_id:
        return credentials.bearer_token(args.token)
    if not args.issuer:
        raise CliError(
            "--client-id needs the identity provider",
            ExitCode.USAGE,
            hint="pass --issuer URL or set ONEDOOR_ISSUER",
        )
    secret = args.client_secret
    if not secret:
        if not sys.stdin.isatty():
            raise CliError(
                f"no secret for the client {args.client_id}",
                ExitCode.USAGE,
                hint="set ONEDOOR_CLIENT_SECRET (or run it at a terminal to be asked)",
            )
        secret = getpass.getpass(f"client secret of {args.client_id}: ")
    return login.client_credentials(
        args.issuer, args.client_id, secret, args.resource, args.timeout
    )


def _send(
    args: argparse.Namespace, path: Path, request_id: str, sending: _Sending, token: str
) -> Any:
    url = f"{args.ingest.rstrip('/')}{ROUTE}?{urllib.parse.urlencode({'requestId': request_id})}"
    request = urllib.request.Request(
        url,
        data=sending,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": CONTENT_TYPES[_format_of(path, args.format)],
            "Content-Length": str(path.stat().st_size),
            "Accept": "application/json",
        },
    )
    retry = f"push again with --request-id {request_id}: the batch resumes, nothing is kept twice"
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read())
        except (ValueError, UnicodeDecodeError):
            body = None
        raise from_error_body(error.code, body) from None
    except (
        urllib.error.URLError,
        ConnectionError,
        TimeoutError,
        http.client.HTTPException,
    ) as error:
        raise CliError(
            f"cannot reach the ingest service at {args.ingest} ({getattr(error, 'reason', error)})",
            ExitCode.UNAVAILABLE,
            hint=retry,
        ) from None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CliError(
            "the ingest service answered without a JSON report", ExitCode.UNAVAILABLE, hint=retry
        ) from None


def _show(report: dict[str, Any], seconds: float) -> str:
    count = lambda name: int(report.get(name, 0))  # noqa: E731
    lines = [
        f"batch        {report.get('batchId', '')}",
        f"request id   {report.get('requestId', '')}",
        f"agency       {report.get('agency', '')}",
        f"received     {count('received'):,}",
        f"accepted     {count('accepted'):,}",
        f"duplicates   {count('duplicates'):,}  (pushed before: nothing changed)",
        f"refused      {count('refused'):,}",
    ]
    for reason in report.get("refusedByReason", []):
        name = str(reason.get("reason", "")).removeprefix("REFUSAL_REASON_")
        lines.append(f"  {name:<24} {int(reason.get('count', 0)):,}")
    lines.append(
        f"took         {seconds:.1f} s ({count('received') / max(seconds, 1e-6):,.0f} records/s)"
    )
    lines.append(f"trace id     {report.get('traceId', '')}")
    refusals = report.get("refusals", [])
    if refusals:
        rows = [
            [
                r.get("line", ""),
                r.get("recordId", ""),
                r.get("field", ""),
                str(r.get("reason", "")).removeprefix("REFUSAL_REASON_"),
                r.get("description", ""),
            ]
            for r in refusals
        ]
        lines.append("refusals:")
        lines.append(tables.table(["LINE", "RECORD", "FIELD", "REASON", "WHY"], rows))
        if int(report.get("refusalsNotShown", 0)):
            lines.append(f"  and {int(report['refusalsNotShown']):,} more, kept with the batch")
    return "\n".join(lines)


def _push(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no file {args.file}", ExitCode.USAGE)
    _format_of(path, args.format)
    # Signed in before anything is sent: a refused client costs no upload.
    token = agency_token(args)
    request_id = args.request_id or str(uuid.uuid4())
    if not args.request_id:
        print(f"request id {request_id} (to resume: --request-id {request_id})", file=sys.stderr)
    progress = Progress(every=1.0, quiet=args.json)
    sending = _Sending(path, progress)
    started = time.monotonic()
    try:
        body = _send(args, path, request_id, sending, token)
    finally:
        progress.done()
    report = body.get("report", {}) if isinstance(body, dict) else {}
    if args.json:
        tables.emit_json(body, sys.stdout)
    else:
        print(_show(report, time.monotonic() - started))
    return int(ExitCode.FAILED if int(report.get("refused", 0)) else ExitCode.OK)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    push = commands.add_parser(
        "push",
        parents=[common],
        help="push an agency's records (CSV or JSON Lines) to the ingest service",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Sends FILE to the ingest service as one batch, as it is read, showing "
        "records per second, and prints the batch's report: accepted, duplicates (pushed "
        "before, nothing changed), refused by reason with line and field. Exit code 1 when "
        "any record was refused (the others are kept). The token is an agency's: ONEDOOR_TOKEN, "
        "or with --client-id one the identity provider issues the agency's client "
        "(client credentials; the secret from ONEDOOR_CLIENT_SECRET or a prompt).",
        epilog="""examples:
  export ONEDOOR_ISSUER=https://sso.taicang.example.gov.cn/realms/agencies
  onedoor push expenses-2026.csv --client-id agency-medical-insurance-320585   # asks the secret
  export ONEDOOR_TOKEN=$(onedoor token --role agency --agency medical_insurance --jurisdiction 320585)
  onedoor push expenses-2026.csv                                    # a local platform's token
  onedoor push deaths.jsonl --request-id 7d0c7c84-batch-2026-11   # resumes a cut-off push
CSV header: record_id,id_number,kind,settled_on,total_fen,out_of_pocket_fen,died_on,grade,
category,changed_on,registered_on (only the kind's own columns are needed; amounts in fen).""",
    )
    push.add_argument("file", metavar="FILE", help="the batch: .csv or .jsonl")
    push.add_argument("--format", choices=sorted(CONTENT_TYPES), help="when the name does not say")
    push.add_argument(
        "--request-id", help="the batch's id (default: a new one, printed); the same resumes it"
    )
    push.add_argument(
        "--ingest",
        metavar="URL",
        default=None,
        help=f"the ingest service (default ONEDOOR_INGEST, else {DEFAULT_INGEST})",
    )
    push.add_argument(
        "--client-id",
        help="sign in as this agency client at the identity provider (client credentials)",
    )
    push.add_argument(
        "--issuer",
        metavar="URL",
        default=None,
        help="the identity provider for --client-id (default ONEDOOR_ISSUER)",
    )
    push.add_argument(
        "--resource",
        default=INGEST_AUDIENCE,
        help=f"the audience the token is asked for (default {INGEST_AUDIENCE})",
    )
    push.set_defaults(run=_push)
