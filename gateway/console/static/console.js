// The console's frame: sign-in (at the bureau's identity provider; a pasted token where
// development tokens are on), the header (who is signed in, language, sign out) and the views
// by role: a window clerk submits and looks up, an officer works the department's queue.
import { ApiRefusal, call, claimsOf, expired, forgetToken, keepToken, storedToken, Unreachable, useClaimNames } from "./api.js";
import { renderNewApplication } from "./application-form.js";
import { keepForm, keptMatter, restoreForm } from "./form-keeper.js";
import {
  beginSignIn,
  completeSignIn,
  endProviderSession,
  justSignedOut,
  SignInFailure,
  signedInAtProvider,
  signInSettings,
} from "./sign-in.js";
import { renderLookup } from "./case-view.js";
import { divisionName, loadDivisions } from "./divisions.js";
import { attribute, currentLanguage, formatTime, setLanguage, text, translate } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { renderAudit } from "./audit.js";
import { renderCaseFile, renderQueue } from "./queue.js";
import { renderReceipt } from "./receipt-page.js";
import { renderDivorce } from "./divorce-desk.js";
import { renderSearch } from "./person-search.js";
import { renderSupply } from "./supply-materials.js";
import { renderWorkList } from "./work-list.js";
import { renderWarnings } from "./warnings.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const languageButton = document.getElementById("language");

// What the gateway says about signing in: the provider, and whether pasted tokens are taken.
let signIn = { issuer: "", clientId: "", devTokens: true };
// Where to go on after signing in again: the view the session ended on.
let returnHash = "";
let expiryTimer = null;
// How this tab last signed in, so the sign-in page offers the same way first.
let pastedLast = false;

const context = {
  claims: null,
  catalog: [],
  // The last submission's answer, for its receipt page (a reload asks the ledger instead).
  submitted: null,
  preselectMatter: null,
  navigate,
};

const VIEWS = {
  window_clerk: [
    ["new", "nav.new"],
    ["worklist", "nav.worklist"],
    ["search", "nav.search"],
    ["divorce", "nav.divorce"],
    ["lookup", "nav.lookup"],
  ],
  officer: [
    ["queue", "nav.queue"],
    ["warnings", "nav.warnings"],
    ["lookup", "nav.lookup"],
  ],
  auditor: [["audit", "nav.audit"]],
};

function home() {
  const role = context.claims?.role;
  return role === "officer" ? "#/queue" : role === "window_clerk" ? "#/new" : role === "auditor" ? "#/audit" : "#/lookup";
}

function navigate(hash, options = {}) {
  context.preselectMatter = options.matter ?? null;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function drawChrome(view) {
  clear(nav);
  clear(who);
  if (!context.claims) {
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  const list = h("ul");
  for (const [name, key] of VIEWS[context.claims.role] ?? [["lookup", "nav.lookup"]]) {
    const link = h("a", { href: `#/${name}`, i18n: key, "aria-current": name === view ? "page" : null });
    // Choosing the view already shown starts it afresh (the queue's first page, an empty form).
    link.addEventListener("click", (event) => {
      if (location.hash === `#/${name}`) {
        event.preventDefault();
        route();
      }
    });
    list.append(h("li", {}, link));
  }
  nav.append(list);
  const { role, department, jurisdiction, expires, name } = context.claims;
  who.append(
    h(
      "span",
      { class: "who-text", "data-role": role },
      name ? h("span", { class: "who-name" }, name) : null,
      h(
        "span",
        { class: "role" },
        h("span", { i18n: `role.${role}` }),
        department ? h("span", { class: "role-department" }, " · ", h("span", { i18n: `department.${department}` })) : null,
      ),
      h("span", { class: "jurisdiction" }, `${divisionName(jurisdiction) || ""} ${jurisdiction}`),
      expires ? h("span", { class: "expires", i18n: ["who.expires", { time: formatTime(expires.toISOString()).slice(11) }] }) : null,
    ),
    h("button", { type: "button", class: "chrome-button", id: "sign-out", i18n: "who.sign_out", on: { click: signOut } }),
  );
}

function endSession() {
  forgetToken();
  clearTimeout(expiryTimer);
  context.claims = null;
  context.catalog = [];
  context.submitted = null;
  drawChrome();
}

// The person chose to sign out: the provider's session ends too, so a shared PC is left
// signed out everywhere.
async function signOut() {
  returnHash = "";
  const atProvider = signedInAtProvider();
  endSession();
  if (atProvider && (await endProviderSession())) return;
  renderSignIn("signin.signed_out");
}

// The session ended by itself (the token expired, or the gateway refused it): say so, and
// keep the form being filled for after the next sign-in.
function sessionExpired() {
  if (!context.claims) return;
  returnHash = location.hash;
  const kept = keepForm(main, returnHash);
  endSession();
  renderSignIn(kept ? "signin.session_ended_kept" : "signin.session_ended");
}

function renderSignIn(messageKey) {
  const banner = messageKey ? h("p", { class: "banner info-banner", role: "status", i18n: messageKey }) : null;
  const parts = [h("h1", { i18n: "signin.title", tabindex: "-1" }), banner];
  let first = null;
  if (signIn.issuer) {
    const error = h("p", { class: "error", "aria-live": "assertive" });
    const button = h("button", { type: "button", class: "primary", id: "sign-in-provider", i18n: "signin.provider" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await beginSignIn(returnHash);
      } catch (failure) {
        text(error, failure instanceof SignInFailure ? failure.key : "signin.provider_unreachable");
        button.disabled = false;
      }
    });
    parts.push(h("div", { class: "signin-provider" }, h("p", { class: "hint", i18n: "signin.provider_hint" }), button, error));
    first = button;
  }
  const pasted = signIn.devTokens ? tokenForm() : null;
  const view = h("div", { class: "view view-signin" }, h("div", { class: "signin" }, ...parts));
  if (pasted) view.append(pasted.form);
  clear(main).append(view);
  ((pastedLast && pasted?.input) || first || pasted?.input)?.focus();
}

// Development only: a self-issued token pasted in (onedoor token).
function tokenForm() {
  const id = uniqueId("token");
  const input = h("input", {
    id,
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    class: "mono",
    "aria-describedby": `${id}-hint ${id}-error`,
  });
  const error = h("p", { class: "error", id: `${id}-error`, "aria-live": "assertive" });
  const button = h("button", { type: "submit", class: "primary", i18n: "signin.submit" });
  const form = h(
    "form",
    { class: "signin signin-token", novalidate: true },
    signIn.issuer ? h("h2", { i18n: "signin.development" }) : null,
    h("div", { class: "field" }, h("label", { for: id, i18n: "signin.token" }), input, h("p", { class: "hint", id: `${id}-hint` }, h("span", { i18n: "signin.hint" }), " ", h("code", {}, "make run"), " · ", h("code", {}, "onedoor token --role window_clerk --jurisdiction 320585")), error),
    button,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const claims = claimsOf(token);
    if (!claims) return fail("signin.malformed");
    if (expired(claims)) return fail("signin.expired");
    keepToken(token);
    button.disabled = true;
    try {
      await startSession(claims);
      pastedLast = true;
      input.value = "";
      goOn();
    } catch (failure) {
      forgetToken();
      if (failure instanceof ApiRefusal && failure.httpStatus === 401) return fail("signin.rejected");
      if (failure instanceof Unreachable) return fail("error.unreachable");
      return fail("error.server");
    } finally {
      button.disabled = false;
    }
  });

  function fail(key) {
    text(error, key);
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
  return { form, input };
}

// After signing in: back to the view the last session ended on, or the role's home.
function goOn() {
  const hash = returnHash || location.hash;
  returnHash = "";
  if (hash && hash !== "#/") {
    if (location.hash === hash) route();
    else location.hash = hash;
  } else navigate(home());
}

// The catalog is read with the token, which also proves the token to the gateway.
async function startSession(claims) {
  const answer = await call("GET", "/v1/matters");
  context.catalog = answer.matters ?? [];
  context.claims = claims;
  clearTimeout(expiryTimer);
  if (claims.expires) {
    // Told when the token runs out, not at the next click that the gateway refuses.
    const left = Math.min(claims.expires.getTime() - Date.now(), 2 ** 31 - 1);
    expiryTimer = setTimeout(sessionExpired, Math.max(left, 0));
  }
}

function route() {
  if (!context.claims) {
    renderSignIn();
    return;
  }
  const match = /^#\/([a-z]+)(?:\/([^/]+))?$/.exec(location.hash);
  const view = match?.[1];
  const argument = match?.[2] ? decodeURIComponent(match[2]) : undefined;
  const role = context.claims.role;
  drawChrome({ receipt: "new", supply: "worklist", file: "queue" }[view] ?? view);
  window.scrollTo(0, 0);
  if (view === "new" && role === "window_clerk") {
    const kept = keptMatter(location.hash);
    if (kept) context.preselectMatter = kept;
    renderNewApplication(main, context);
    if (kept && restoreForm(main, location.hash)) {
      main.querySelector("form[data-matter]")?.prepend(h("p", { class: "banner info-banner", role: "status", i18n: "form.restored" }));
    }
  } else if (view === "receipt" && argument) {
    renderReceipt(main, context, argument);
  } else if (view === "worklist" && role === "window_clerk") {
    renderWorkList(main, context, argument);
  } else if (view === "supply" && argument && role === "window_clerk") {
    renderSupply(main, context, argument);
  } else if (view === "divorce" && role === "window_clerk") {
    renderDivorce(main, context, argument);
  } else if (view === "search" && role === "window_clerk") {
    renderSearch(main, context);
  } else if (view === "lookup") {
    renderLookup(main, context, argument);
  } else if (view === "queue" && role === "officer") {
    renderQueue(main, context);
  } else if (view === "file" && argument && role === "officer") {
    renderCaseFile(main, context, argument);
  } else if (view === "warnings" && role === "officer") {
    renderWarnings(main, context, argument);
  } else if (view === "audit" && role === "auditor") {
    renderAudit(main, context);
  } else if (view && view !== home().slice(2)) {
    clear(main).append(
      h("div", { class: "view" }, h("h1", { i18n: "error.not_for_role", tabindex: "-1" }), h("p", {}, h("a", { href: home(), i18n: "error.go_home" }))),
    );
  } else {
    navigate(home());
  }
}

function drawLanguageButton() {
  // The button names the language it switches to, in that language.
  const other = currentLanguage() === "zh" ? "en" : "zh";
  languageButton.textContent = other === "en" ? "English" : "中文";
  languageButton.setAttribute("lang", other === "en" ? "en" : "zh-CN");
  attribute(languageButton, "aria-label", "language.switch");
}

async function boot() {
  translate(document);
  drawLanguageButton();
  languageButton.addEventListener("click", () => setLanguage(currentLanguage() === "zh" ? "en" : "zh"));
  // The language may also change from a dialog's own switch.
  window.addEventListener("onedoor:language", drawLanguageButton);
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault();
    (main.querySelector("h1") ?? main).focus();
  });
  window.addEventListener("onedoor:unauthenticated", sessionExpired);
  window.addEventListener("hashchange", route);
  try {
    [signIn] = await Promise.all([signInSettings(), loadDivisions()]);
  } catch {
    clear(main).append(h("p", { class: "banner error-banner", role: "alert", i18n: "error.unreachable" }));
    return;
  }
  useClaimNames(signIn.claims ?? {});
  if (justSignedOut()) {
    forgetToken();
    renderSignIn("signin.signed_out");
    return;
  }
  let returned = null;
  try {
    returned = await completeSignIn();
  } catch (failure) {
    forgetToken();
    renderSignIn(failure instanceof SignInFailure ? failure.key : "signin.provider_refused");
    return;
  }
  if (returned) {
    const fresh = claimsOf(returned.token);
    if (!fresh) {
      renderSignIn("signin.malformed");
      return;
    }
    keepToken(returned.token);
    pastedLast = false;
    try {
      await startSession(fresh);
    } catch (failure) {
      forgetToken();
      renderSignIn(failure instanceof ApiRefusal && failure.httpStatus === 401 ? "signin.rejected" : "error.server");
      return;
    }
    returnHash = returned.returnHash;
    goOn();
    return;
  }
  const claims = claimsOf(storedToken());
  if (claims && !expired(claims)) {
    try {
      await startSession(claims);
    } catch {
      forgetToken();
    }
  } else {
    forgetToken();
  }
  route();
}

boot();
