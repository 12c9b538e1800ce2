"""The bureau's identity provider on this machine: node-oidc-provider (deploy/local/oidc/) with
the demo staff and the demo agencies' machine clients, started beside the platform by
``make run`` and the tests.

It signs with the private keys of a JWKS file this module writes (:func:`write_keys`);
restarting it with a new file is a key rotation. :func:`sign_in` signs a member of staff in as
the console does (authorization code with PKCE, the login form posted with a user name and
password), for the demo and the tests; an agency's client gets its token with the
client-credentials grant, as ``onedoor push --client-id`` does (services/cli/login.py).
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from services.launcher.platform import ROOT, PlatformError

PROVIDER_DIR = ROOT / "deploy" / "local" / "oidc"
STAFF_FILE = PROVIDER_DIR / "staff.json"
AGENCIES_FILE = PROVIDER_DIR / "agencies.json"
# The gateway's audience: the resource node-oidc-provider issues its access tokens for.
AUDIENCE = "urn:onedoor:gateway"
# Ingest's: agencies' tokens are issued for it.
INGEST_AUDIENCE = "urn:onedoor:ingest"
CONSOLE_CLIENT = "onedoor-console"
CLI_CLIENT = "onedoor-cli"
SCOPE = "openid profile staff"


def demo_password() -> str:
    return str(json.loads(STAFF_FILE.read_text())["password"])


def demo_staff() -> list[dict[str, str]]:
    return list(json.loads(STAFF_FILE.read_text())["staff"])


def demo_agencies() -> list[dict[str, str]]:
    """The demo agencies' machine clients: client_id, client_secret, name, agency,
    jurisdiction."""
    return list(json.loads(AGENCIES_FILE.read_text())["agencies"])


def demo_agency(agency: str, jurisdiction: str) -> dict[str, str]:
    return next(
        a for a in demo_agencies() if (a["agency"], a["jurisdiction"]) == (agency, jurisdiction)
    )


def new_keys() -> dict[str, Any]:
    """A JWKS of fresh private signing keys, one RS256 and one ES256, each with its own kid."""
    rsa_key = RSAAlgorithm.to_jwk(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), as_dict=True
    )
    ec_key = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    keys = []
    for key, alg in ((rsa_key, "RS256"), (ec_key, "ES256")):
        # PyJWT marks a private key "sign" only; the provider also verifies its own ID tokens
        # with it (an id_token_hint at logout), which "use": "sig" alone allows.
        key.pop("key_ops", None)
        keys.append({**key, "kid": uuid.uuid4().hex, "alg": alg, "use": "sig"})
    return {"keys": keys}


def write_keys(path: Path) -> dict[str, Any]:
    keys = new_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(keys))
    return keys


@dataclass
class IdentityProvider:
    port: int
    keys_file: Path
    log_path: Path
    # The console's origins: where the provider may send a signed-in browser back.
    console_origins: tuple[str, ...]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gateway_env(self) -> dict[str, str]:
        """What a gateway is configured with to trust this provider."""
        return {"GATEWAY_OIDC_ISSUER": self.issuer, "GATEWAY_OIDC_AUDIENCE": AUDIENCE}

    def ingest_env(self) -> dict[str, str]:
        """What ingest is configured with to trust this provider's agency tokens."""
        return {"INGEST_OIDC_ISSUER": self.issuer, "INGEST_OIDC_AUDIENCE": INGEST_AUDIENCE}

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise PlatformError("the identity provider needs Node.js 20 or later (node) on PATH")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise PlatformError(
                "node-oidc-provider is not installed: run `make install` (npm ci in deploy/local/oidc)"
            )
        if not self.keys_file.exists():
            write_keys(self.keys_file)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": str(Path(node).parent),
            "OIDC_ISSUER": self.issuer,
            "OIDC_PORT": str(self.port),
            "OIDC_KEYS_FILE": str(self.keys_file),
            "OIDC_CONSOLE_ORIGINS": ",".join(self.console_origins),
            "OIDC_AUDIENCE": AUDIENCE,
            "OIDC_INGEST_AUDIENCE": INGEST_AUDIENCE,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [node, "provider.mjs"],
                cwd=PROVIDER_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.issuer}/.well-known/openid-configuration"
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise PlatformError(
                    f"the identity provider exited with code {self.process.returncode}; "
                    f"its log:\n{self.log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise PlatformError(f"the identity provider did not answer {url} in {timeout:.0f}s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def rotate(self) -> dict[str, Any]:
        """New signing keys: the provider restarts with them (ending every session) and
        publishes only them; returns the new JWKS (private)."""
        self.stop()
        keys = write_keys(self.keys_file)
        self.start()
        self.wait_ready()
        return keys


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class SignInError(RuntimeError):
    pass


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def sign_in(
    issuer: str, username: str, password: str, console_origin: str, resource: str = ""
) -> dict[str, Any]:
    """The provider's token response for a member of staff, obtained as the console obtains it:
    the authorization-code flow with PKCE, the provider's login form posted like a browser.
    ``resource`` (RFC 8707) asks for a token for another audience than the gateway's."""
    redirect_uri = f"{console_origin}/console/"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
    )
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)
    asked = {"resource": resource} if resource else {}
    query = urllib.parse.urlencode(
        {
            "client_id": CONSOLE_CLIENT,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            **asked,
        }
    )

    def step(url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location", "")
            return error.code, urllib.parse.urljoin(url, location), error.read().decode()

    status, location, body = step(f"{issuer}/auth?{query}")
    for _ in range(10):
        if location.startswith(redirect_uri):
            break
        if status in (302, 303):
            status, next_location, body = step(location)
            if status == 200 and "/login" in body:
                login = f"{location.rstrip('/')}/login"
                status, next_location, body = step(
                    login, {"username": username, "password": password}
                )
                if status == 401:
                    raise SignInError(f"the provider refused {username}'s password")
            location = next_location
            continue
        raise SignInError(f"the provider answered {status}: {body[:300]}")
    else:
        raise SignInError("the provider never sent the browser back to the console")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if params.get("state") != [state] or "code" not in params:
        raise SignInError(f"the provider answered no code: {params}")
    token_form = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": redirect_uri,
        "client_id": CONSOLE_CLIENT,
        "code_verifier": verifier,
        **asked,
    }
    status, _, body = step(f"{issuer}/token", token_form)
    if status != 200:
        raise SignInError(f"the token endpoint answered {status}: {body[:300]}")
    return dict(json.loads(body))
