import { currentLanguage } from "./i18n.js";
// The gateway's HTTP API, called with the signed-in person's token. The token stays in this
// tab's sessionStorage: closing the tab signs out, and another tab of the shared window PC
// does not inherit it.

const TOKEN_KEY = "onedoor.console.token";

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function keepToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// Where the console finds role, department and jurisdiction in a token: the claims the
// gateway is configured to read (a bureau's directory may name them its own way).
const CLAIM_NAMES = { role: "role", department: "department", jurisdiction: "jurisdiction" };

export function useClaimNames(names) {
  Object.assign(CLAIM_NAMES, names);
}

function claim(claims, path) {
  return path.split(".").reduce((value, part) => (value && typeof value === "object" ? value[part] : undefined), claims);
}

// The claims the console shows and routes by. They are read, not verified: the gateway
// verifies the signature on every call, and a forged token only earns a 401.
export function claimsOf(token) {
  const parts = (token || "").split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    let role = claim(claims, CLAIM_NAMES.role);
    if (Array.isArray(role)) role = role.find((r) => ["window_clerk", "officer", "auditor", "operator"].includes(r));
    const jurisdiction = claim(claims, CLAIM_NAMES.jurisdiction);
    const department = claim(claims, CLAIM_NAMES.department);
    if (typeof role !== "string" || typeof jurisdiction !== "string") return null;
    return {
      role,
      jurisdiction,
      department: typeof department === "string" ? department : "",
      subject: typeof claims.sub === "string" ? claims.sub : "",
      name: typeof claims.name === "string" ? claims.name : "",
      expires: typeof claims.exp === "number" ? new Date(claims.exp * 1000) : null,
    };
  } catch {
    return null;
  }
}

export function expired(claims) {
  return Boolean(claims.expires && claims.expires.getTime() <= Date.now());
}

// An answer other than 2xx, in the gateway's error shape (google.rpc.Status as JSON). What
// people read is the gateway's localizedMessage, in the language the call asked for (AIP-193):
// the message and each violation's description are those, the developer's English kept beside
// them (developerMessage, developerDescription) for the staff who quote it to operators.
export class ApiRefusal extends Error {
  constructor(httpStatus, body) {
    const error = body?.error ?? {};
    super(error.localizedMessage?.message || error.message || `HTTP ${httpStatus}`);
    this.developerMessage = error.message || "";
    this.localizedMessage = error.localizedMessage?.message || "";
    this.httpStatus = httpStatus;
    this.status = error.status || "";
    this.traceId = body?.traceId || "";
    const details = Array.isArray(error.details) ? error.details : [];
    this.violations = details
      .flatMap((d) => (Array.isArray(d.fieldViolations) ? d.fieldViolations : []))
      .map((v) => ({
        ...v,
        developerDescription: v.description || "",
        description: v.localizedMessage?.message || v.description || "",
      }));
    this.reason = details.find((d) => d.reason)?.reason || "";
    // The ErrorInfo's particulars (a divorce's days), which the console's words may name.
    this.metadata = details.find((d) => d.reason)?.metadata ?? {};
  }
}

// The network itself failed: the gateway is down or the cable is out.
export class Unreachable extends Error {}

export async function call(method, path, body) {
  // The gateway renders the domain texts (timeline, assessments) in the console's language.
  const headers = { Accept: "application/json", "Accept-Language": currentLanguage() === "en" ? "en" : "zh-CN" };
  const token = storedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new Unreachable("the gateway did not answer");
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (response.ok) return answer;
  const refusal = new ApiRefusal(response.status, answer);
  if (response.status === 401) {
    // The token expired or was revoked mid-shift: back to sign-in, saying why.
    window.dispatchEvent(new CustomEvent("onedoor:unauthenticated"));
  }
  throw refusal;
}

// Unique per form or per decision dialog, so a double click or a retry after a timeout is
// the same request (AIP-155). crypto.randomUUID needs a secure context, which a bureau
// intranet served over plain http is not; getRandomValues works everywhere.
export function newRequestId() {
  if (typeof crypto.randomUUID === "function" && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
