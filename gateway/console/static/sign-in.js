// Signing in at the bureau's identity provider (OpenID Connect): the authorization-code flow
// with PKCE, as a public client (a page keeps no secret). The page sends the browser to the
// provider's login, takes the code it comes back with on its own URL, and exchanges it at the
// provider's token endpoint itself. Signing out ends the provider's session too
// (RP-initiated logout), so the next person at a shared window PC signs in afresh.

// What the gateway says about signing in (/console/sign-in.json), read once.
let settings = null;
let discovered = null;

const PENDING_KEY = "onedoor.console.signin";
const ID_TOKEN_KEY = "onedoor.console.id_token";
const SIGNED_OUT_KEY = "onedoor.console.signed_out";
const SCOPE = "openid profile staff";

export class SignInFailure extends Error {
  constructor(key) {
    super(key);
    this.key = key;
  }
}

export async function signInSettings() {
  if (!settings) {
    const response = await fetch("sign-in.json", { cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new Error(`sign-in.json answered ${response.status}`);
    settings = await response.json();
  }
  return settings;
}

async function provider() {
  if (!discovered) {
    const { issuer } = await signInSettings();
    let response;
    try {
      response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { credentials: "omit" });
    } catch {
      throw new SignInFailure("signin.provider_unreachable");
    }
    if (!response.ok) throw new SignInFailure("signin.provider_unreachable");
    discovered = await response.json();
    if (discovered.issuer !== issuer) throw new SignInFailure("signin.provider_mismatch");
  }
  return discovered;
}

function redirectUri() {
  return `${location.origin}/console/`;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

// Sends the browser to the provider's login; ``returnHash`` is where the console goes on
// after it comes back (the view whose form was kept, say).
export async function beginSignIn(returnHash) {
  // PKCE's S256 needs SubtleCrypto, which browsers give only to secure contexts (https, or
  // this machine itself): a bureau serves its console over https.
  if (!window.isSecureContext || !crypto.subtle) throw new SignInFailure("signin.insecure");
  const { clientId } = await signInSettings();
  const endpoints = await provider();
  const verifier = randomText();
  const state = randomText();
  const nonce = randomText();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce, returnHash }));
  sessionStorage.removeItem(SIGNED_OUT_KEY);
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: "code",
    scope: SCOPE,
    redirect_uri: redirectUri(),
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    nonce,
  });
  location.assign(`${endpoints.authorization_endpoint}?${query}`);
}

function idTokenNonce(idToken) {
  try {
    const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4))).nonce;
  } catch {
    return undefined;
  }
}

// On the way back from the provider: the access token for the code on this page's URL, and
// where to go on; null when this page load is no return from the provider.
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  sessionStorage.removeItem(PENDING_KEY);
  // The code and the provider's answer leave the address bar and the history at once.
  history.replaceState(null, "", `${location.pathname}${pending?.returnHash || ""}`);
  if (!pending || params.get("state") !== pending.state) throw new SignInFailure("signin.stale");
  if (params.has("error")) throw new SignInFailure("signin.provider_refused");
  const { issuer, clientId } = await signInSettings();
  // RFC 9207: the code comes from the provider it was asked of, not one mixed up with it.
  if (params.has("iss") && params.get("iss") !== issuer) throw new SignInFailure("signin.provider_mismatch");
  const endpoints = await provider();
  let response;
  try {
    response = await fetch(endpoints.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: redirectUri(),
        client_id: clientId,
        code_verifier: pending.verifier,
      }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new SignInFailure("signin.provider_unreachable");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || typeof answer.access_token !== "string") throw new SignInFailure("signin.provider_refused");
  if (answer.id_token) {
    if (idTokenNonce(answer.id_token) !== pending.nonce) throw new SignInFailure("signin.stale");
    sessionStorage.setItem(ID_TOKEN_KEY, answer.id_token);
  }
  return { token: answer.access_token, returnHash: pending.returnHash || "" };
}

// Whether this tab's session came from the provider (so signing out ends it there too).
export function signedInAtProvider() {
  return sessionStorage.getItem(ID_TOKEN_KEY) !== null;
}

// Ends the provider's session and comes back to the console's sign-in page.
export async function endProviderSession() {
  const idToken = sessionStorage.getItem(ID_TOKEN_KEY);
  sessionStorage.removeItem(ID_TOKEN_KEY);
  sessionStorage.setItem(SIGNED_OUT_KEY, "1");
  const { clientId } = await signInSettings();
  let endpoints;
  try {
    endpoints = await provider();
  } catch {
    return false;
  }
  if (!endpoints.end_session_endpoint) return false;
  const query = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: redirectUri() });
  if (idToken) query.set("id_token_hint", idToken);
  location.assign(`${endpoints.end_session_endpoint}?${query}`);
  return true;
}

// True once, on the page load that follows an ended provider session.
export function justSignedOut() {
  const was = sessionStorage.getItem(SIGNED_OUT_KEY) !== null;
  sessionStorage.removeItem(SIGNED_OUT_KEY);
  return was;
}
