"""``onedoor login``: signs a member of staff in at the bureau's identity provider with the
device authorization grant (RFC 8628), so a terminal with no browser of its own works too: the
command prints a link and a code, the person signs in on any browser, and the command prints
the access token for ``ONEDOOR_TOKEN``.

An agency's machine client signs in with the client-credentials grant instead
(:func:`client_credentials`, for ``onedoor push --client-id``): its client id and secret, no
person and no browser; the token is for ingest's audience.

The provider is the one the gateway trusts, as it publishes it for its console
(``/console/sign-in.json``), unless ``--issuer`` names one. urllib, like the rest of the
command line: nothing to install, a fast start.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from services.cli.outcome import CliError, ExitCode

CLI_CLIENT = "onedoor-cli"
SCOPE = "openid profile staff"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _read_json(request: urllib.request.Request | str, timeout: float) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return int(error.code), json.loads(error.read() or b"{}")
        except ValueError:
            return int(error.code), {}
    except (urllib.error.URLError, OSError, ValueError) as error:
        url = request if isinstance(request, str) else request.full_url
        raise CliError(
            f"{url} did not answer ({getattr(error, 'reason', error)})",
            code=ExitCode.UNAVAILABLE,
            hint="check the address, or that the identity provider is up",
        ) from None


def _post_form(
    url: str, form: dict[str, str], timeout: float, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            **(headers or {}),
        },
    )
    return _read_json(request, timeout)


def issuer_of(gateway: str, timeout: float) -> str:
    """The provider the gateway trusts, as it tells its console."""
    status, document = _read_json(f"{gateway.rstrip('/')}/console/sign-in.json", timeout)
    issuer = document.get("issuer") if isinstance(document, dict) else None
    if status != 200 or not issuer:
        raise CliError(
            "the gateway names no identity provider (it takes development tokens only)",
            code=ExitCode.UNAVAILABLE,
            hint="use `onedoor token` for a local platform, or pass --issuer",
        )
    return str(issuer)


def _endpoints(issuer: str, timeout: float, device: bool = True) -> dict[str, Any]:
    status, document = _read_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout)
    if status != 200 or not isinstance(document, dict) or document.get("issuer") != issuer:
        raise CliError(
            f"{issuer} publishes no OpenID configuration of its own",
            code=ExitCode.UNAVAILABLE,
        )
    if "token_endpoint" not in document:
        raise CliError(f"{issuer} names no token endpoint", code=ExitCode.UNAVAILABLE)
    if device and "device_authorization_endpoint" not in document:
        raise CliError(
            f"{issuer} does not offer the device authorization grant",
            code=ExitCode.UNAVAILABLE,
            hint="sign in at the console and pass its token with --token or ONEDOOR_TOKEN",
        )
    return document


def device_login(
    issuer: str,
    client_id: str,
    timeout: float,
    tell: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The access token once the person has signed in on a browser; ``tell`` shows where."""
    endpoints = _endpoints(issuer, timeout)
    status, started = _post_form(
        endpoints["device_authorization_endpoint"],
        {"client_id": client_id, "scope": SCOPE},
        timeout,
    )
    if status != 200 or "device_code" not in started:
        raise CliError(
            f"the identity provider refused to start a sign-in: {started.get('error', status)}",
            code=ExitCode.FAILED,
        )
    link = started.get("verification_uri_complete") or started["verification_uri"]
    tell(
        f"Open {link} in a browser, check that it shows the code {started['user_code']}, "
        "and sign in."
    )
    interval = float(started.get("interval", 5))
    deadline = time.monotonic() + float(started.get("expires_in", 600))
    while time.monotonic() < deadline:
        sleep(interval)
        status, answer = _post_form(
            endpoints["token_endpoint"],
            {
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
                "client_id": client_id,
            },
            timeout,
        )
        if status == 200 and isinstance(answer.get("access_token"), str):
            return str(answer["access_token"])
        error = answer.get("error", "") if isinstance(answer, dict) else ""
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            # RFC 8628 §3.5: five seconds more between polls from now on.
            interval += 5
            continue
        if error == "access_denied":
            raise CliError("the sign-in was declined in the browser", code=ExitCode.FAILED)
        if error == "expired_token":
            break
        raise CliError(f"the identity provider answered {error or status}", code=ExitCode.FAILED)
    raise CliError(
        "the code expired before anyone signed in",
        code=ExitCode.FAILED,
        hint="run onedoor login again",
    )


def client_credentials(
    issuer: str, client_id: str, secret: str, resource: str, timeout: float
) -> str:
    """An agency client's access token for ``resource`` (RFC 8707), by the client-credentials
    grant (RFC 6749 §4.4), the client authenticated with HTTP Basic (§2.3.1: each part
    form-encoded first)."""
    endpoints = _endpoints(issuer, timeout, device=False)
    basic = ":".join(urllib.parse.quote(part, safe="") for part in (client_id, secret))
    form = {"grant_type": "client_credentials"}
    if resource:
        form["resource"] = resource
    status, answer = _post_form(
        endpoints["token_endpoint"],
        form,
        timeout,
        {"Authorization": f"Basic {base64.b64encode(basic.encode()).decode()}"},
    )
    if status == 200 and isinstance(answer, dict) and isinstance(answer.get("access_token"), str):
        return str(answer["access_token"])
    error = answer.get("error", "") if isinstance(answer, dict) else ""
    if error == "invalid_client":
        raise CliError(
            f"the identity provider refused the client {client_id}: wrong id or secret",
            code=ExitCode.FAILED,
            hint="check --client-id and ONEDOOR_CLIENT_SECRET",
        )
    if error in ("invalid_target", "unauthorized_client", "invalid_scope"):
        raise CliError(
            f"the identity provider gives the client {client_id} no token for {resource} ({error})",
            code=ExitCode.FAILED,
            hint="the bureau registers the client for ingest's audience",
        )
    raise CliError(f"the identity provider answered {error or status}", code=ExitCode.FAILED)


def _login(args: argparse.Namespace) -> int:
    issuer = args.issuer or issuer_of(args.gateway, args.timeout)
    token = device_login(
        issuer, args.client_id, args.timeout, lambda line: print(line, file=sys.stderr, flush=True)
    )
    print("Signed in.", file=sys.stderr)
    # Only the token on stdout: `export ONEDOOR_TOKEN=$(onedoor login)`.
    print(token, flush=True)
    return ExitCode.OK


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    login = commands.add_parser(
        "login",
        parents=[common],
        help="sign in at the bureau's identity provider (device flow)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Signs in at the identity provider the gateway trusts with the device "
        "authorization grant: it prints a link and a code, you sign in on any browser, and it "
        "prints your access token (only the token, on stdout).",
        epilog="""examples:
  export ONEDOOR_TOKEN=$(onedoor login)
  export ONEDOOR_TOKEN=$(onedoor login --gateway https://onedoor.example.gov.cn)""",
    )
    login.add_argument(
        "--issuer", help="the identity provider (default: the one the gateway names)"
    )
    login.add_argument(
        "--client-id",
        default=CLI_CLIENT,
        help=f"the command line's client id at the provider (default {CLI_CLIENT})",
    )
    login.set_defaults(run=_login)
