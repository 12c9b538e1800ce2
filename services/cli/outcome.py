"""How a command ends: its exit code, and the error that carries a message and what to do next.

Scripts branch on the exit code, so each code means one kind of outcome whatever the command:
retrying helps with 3 and never with 1 or 2.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any


class ExitCode(enum.IntEnum):
    OK = 0
    # The gateway answered and said no: refused, not found, not allowed; or the audit chain is
    # broken, or a --wait ran out of time.
    FAILED = 1
    # The command line itself is wrong: arguments, the input file. Nothing was sent.
    USAGE = 2
    # No answer as this caller: the gateway is unreachable or failing, or there is no valid
    # token. Fix the setup or retry later.
    UNAVAILABLE = 3


EXIT_CODES_HELP = """\
exit codes:
  0  done
  1  the gateway refused or found nothing (400, 403, 404, 409), the audit chain is
     broken, or --wait ran out of time
  2  usage: bad arguments or input file; nothing was sent
  3  no answer as this caller: gateway unreachable or failing (5xx), or no valid
     token (401); retrying with the same request id is safe"""


class CliError(Exception):
    """A command failed: ``message`` says what happened, ``details`` list the specifics (one
    per field violation), ``hint`` what to do next."""

    def __init__(
        self,
        message: str,
        code: ExitCode = ExitCode.FAILED,
        hint: str = "",
        details: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        self.details = tuple(details)

    def with_hint(self, hint: str) -> CliError:
        self.hint = hint
        return self


class GatewayError(CliError):
    """The gateway answered with an error (Google's JSON error shape, AIP-193)."""

    def __init__(
        self,
        http_status: int,
        status: str,
        message: str,
        reason: str = "",
        violations: Sequence[tuple[str, str]] = (),
        trace_id: str = "",
        body: dict[str, Any] | None = None,
    ) -> None:
        details = [f"{field}: {description}" for field, description in violations]
        if trace_id:
            details.append(f"trace id {trace_id}")
        super().__init__(
            f"{http_status} {status}: {message}",
            code=exit_code_for(http_status),
            hint=_default_hint(http_status),
            details=details,
        )
        self.http_status = http_status
        self.status = status
        self.reason = reason
        self.violations = tuple(violations)
        self.trace_id = trace_id
        self.body = body


def retry_may_help(error: CliError) -> bool:
    """Whether the same call may succeed later: no answer came, or the platform was failing.
    Without a valid token (401) it never will."""
    if error.code != ExitCode.UNAVAILABLE:
        return False
    return not isinstance(error, GatewayError) or error.http_status != 401


def exit_code_for(http_status: int) -> ExitCode:
    if 200 <= http_status < 300:
        return ExitCode.OK
    # 429 and 5xx: the platform could not serve now, a retry may succeed.
    if http_status == 401 or http_status == 429 or http_status >= 500:
        return ExitCode.UNAVAILABLE
    return ExitCode.FAILED


TOKEN_HINT = (
    "set ONEDOOR_TOKEN (`export ONEDOOR_TOKEN=$(onedoor login)` signs you in) or pass --token; "
    "for local use "
    "`onedoor token --role window_clerk --jurisdiction 320585` makes one"
)


def _default_hint(http_status: int) -> str:
    if http_status == 401:
        return TOKEN_HINT
    if http_status == 403:
        return (
            "use a token of the role and jurisdiction this needs "
            "(`onedoor token --help` lists the roles)"
        )
    if http_status == 404:
        return "check the receipt or name; `onedoor cases` lists what you may see"
    if http_status == 429 or http_status >= 500:
        return "retry in a moment; if it persists, quote the trace id to the operators"
    return ""


def from_error_body(http_status: int, body: Any) -> GatewayError:
    """The error the gateway described in Google's JSON shape; tolerant of other bodies (a
    proxy's HTML page) since the status alone still says what kind of failure it was."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return GatewayError(http_status, "HTTP_ERROR", "the gateway answered without a reason")
    error = body["error"]
    violations: list[tuple[str, str]] = []
    reason = ""
    for detail in error.get("details") or ():
        if not isinstance(detail, dict):
            continue
        for violation in detail.get("fieldViolations") or ():
            violations.append(
                (str(violation.get("field", "")), str(violation.get("description", "")))
            )
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            reason = str(detail.get("reason", ""))
    return GatewayError(
        http_status,
        str(error.get("status", "HTTP_ERROR")),
        str(error.get("message", "")),
        reason=reason,
        violations=violations,
        trace_id=str(body.get("traceId", "")),
        body=body,
    )
