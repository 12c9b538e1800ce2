// The console's frame: sign-in with a token, the header (who is signed in, language, sign
// out) and the views by role: a window clerk submits and looks up, an officer works the
// department's queue.
import { ApiRefusal, call, claimsOf, expired, forgetToken, keepToken, storedToken, Unreachable } from "./api.js";
import { renderNewApplication } from "./application-form.js";
import { renderLookup } from "./case-view.js";
import { divisionName, loadDivisions } from "./divisions.js";
import { attribute, currentLanguage, formatTime, setLanguage, text, translate } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { renderQueue } from "./queue.js";
import { renderReceipt } from "./receipt-page.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const languageButton = document.getElementById("language");

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
    ["lookup", "nav.lookup"],
  ],
  officer: [
    ["queue", "nav.queue"],
    ["lookup", "nav.lookup"],
  ],
};

function home() {
  return context.claims?.role === "officer" ? "#/queue" : context.claims?.role === "window_clerk" ? "#/new" : "#/lookup";
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
  const { role, department, jurisdiction, expires } = context.claims;
  who.append(
    h(
      "span",
      { class: "who-text", "data-role": role },
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

function signOut(messageKey) {
  forgetToken();
  context.claims = null;
  context.catalog = [];
  context.submitted = null;
  drawChrome();
  renderSignIn(typeof messageKey === "string" ? messageKey : "signin.signed_out");
}

function renderSignIn(messageKey) {
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
    { class: "signin", novalidate: true },
    h("h1", { i18n: "signin.title", tabindex: "-1" }),
    messageKey ? h("p", { class: "banner info-banner", role: "status", i18n: messageKey }) : null,
    h("div", { class: "field" }, h("label", { for: id, i18n: "signin.token" }), input, h("p", { class: "hint", id: `${id}-hint`, i18n: "signin.hint" }), error),
    button,
  );
  clear(main).append(h("div", { class: "view view-signin" }, form));
  input.focus();

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
      input.value = "";
      if (location.hash && location.hash !== "#/") route();
      else navigate(home());
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
}

// The catalog is read with the token, which also proves the token to the gateway.
async function startSession(claims) {
  const answer = await call("GET", "/v1/matters");
  context.catalog = answer.matters ?? [];
  context.claims = claims;
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
  drawChrome(view === "receipt" ? "new" : view);
  window.scrollTo(0, 0);
  if (view === "new" && role === "window_clerk") {
    renderNewApplication(main, context);
  } else if (view === "receipt" && argument) {
    renderReceipt(main, context, argument);
  } else if (view === "lookup") {
    renderLookup(main, context, argument);
  } else if (view === "queue" && role === "officer") {
    renderQueue(main, context);
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
  languageButton.addEventListener("click", () => {
    setLanguage(currentLanguage() === "zh" ? "en" : "zh");
    drawLanguageButton();
  });
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault();
    (main.querySelector("h1") ?? main).focus();
  });
  window.addEventListener("onedoor:unauthenticated", () => {
    if (context.claims) signOut("signin.session_ended");
  });
  window.addEventListener("hashchange", route);
  try {
    await loadDivisions();
  } catch {
    clear(main).append(h("p", { class: "banner error-banner", role: "alert", i18n: "error.unreachable" }));
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
