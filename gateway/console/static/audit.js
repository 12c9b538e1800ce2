// The auditor's screen: the audit log by case, by actor and by day, a page at a time in chain
// order, and whether the hash chain is intact (the gateway walks it where the rows are).
import { call } from "./api.js";
import { formatTime, t, text } from "./i18n.js";
import { dateInput, readDate } from "./dates.js";
import { clear, h, uniqueId } from "./markup.js";
import { keysetPager } from "./pager.js";
import { refusalMessage } from "./case-view.js";

const PAGE_SIZE = 50;

export function renderAudit(root, context) {
  const verdict = h("p", { class: "banner info-banner chain-verdict", role: "status", "aria-live": "polite", i18n: "audit.verifying" });
  const verify = h("button", { type: "button", class: "secondary", i18n: "audit.verify" });
  const field = (key, input) => {
    input.id = uniqueId("audit");
    input.setAttribute("aria-describedby", `${input.id}-error`);
    return h("div", { class: "field" }, h("label", { for: input.id, i18n: key }), input, h("p", { class: "error", id: `${input.id}-error`, "aria-live": "polite" }));
  };
  const errorOf = (input) => document.getElementById(`${input.id}-error`);
  const receipt = h("input", { name: "receipt", class: "mono", autocomplete: "off", spellcheck: "false" });
  const actor = h("input", { name: "actor", class: "mono", autocomplete: "off", spellcheck: "false" });
  // Dates as text in the console's language, not the browser's date picker (dates.js).
  const since = dateInput({ name: "sinceDate" });
  const until = dateInput({ name: "untilDate" });
  const search = h("button", { type: "submit", class: "primary", i18n: "audit.search" });
  const reset = h("button", { type: "reset", class: "secondary", i18n: "audit.reset" });
  const form = h(
    "form",
    { class: "audit-filters", role: "search" },
    field("audit.receipt", receipt),
    field("audit.actor", actor),
    field("audit.since", since),
    field("audit.until", until),
    h("div", { class: "dialog-actions" }, search, reset),
  );
  const pageInfo = h("span", { class: "page-info", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "secondary", i18n: "queue.previous" });
  const next = h("button", { type: "button", class: "secondary", i18n: "queue.next" });
  const tableHost = h("div", { class: "audit-table" });
  clear(root).append(
    h(
      "div",
      { class: "view view-audit" },
      h("h1", { tabindex: "-1", i18n: "audit.title" }),
      h("p", { class: "hint", i18n: "audit.hint" }),
      h("div", { class: "toolbar" }, verdict, h("span", { class: "spacer" }), verify),
      form,
      h("div", { class: "toolbar" }, h("span", { class: "spacer" }), pageInfo, previous, next),
      tableHost,
    ),
  );

  async function checkChain() {
    verdict.className = "banner info-banner chain-verdict";
    text(verdict, "audit.verifying");
    verify.disabled = true;
    try {
      const found = await call("GET", "/v1/audit:verify");
      verdict.dataset.intact = String(Boolean(found.intact));
      verdict.className = `banner ${found.intact ? "ok-banner" : "error-banner"} chain-verdict`;
      text(verdict, found.intact ? "audit.intact" : "audit.broken", { checked: found.checked ?? 0, at: found.brokenAt ?? 0 });
    } catch (error) {
      verdict.className = "banner error-banner chain-verdict";
      clear(verdict).append(refusalMessage(error));
    } finally {
      verify.disabled = false;
    }
  }

  const pager = keysetPager(previous, next, load);

  async function load() {
    clear(tableHost).append(h("p", { class: "loading", i18n: "common.loading" }));
    const ticket = pager.loading();
    const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
    for (const input of [receipt, actor]) if (input.value.trim()) query.set(input.name, input.value.trim());
    for (const input of [since, until]) if (readDate(input.value).date) query.set(input.name, readDate(input.value).date);
    if (pager.token) query.set("pageToken", pager.token);
    let answer;
    try {
      answer = await call("GET", `/v1/audit?${query}`);
    } catch (error) {
      if (pager.stale(ticket)) return;
      clear(tableHost).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
      return;
    }
    if (pager.stale(ticket)) return;
    const entries = answer.entries ?? [];
    pager.arrived(answer.nextPageToken);
    text(pageInfo, "audit.page", { page: pager.page + 1, count: entries.length });
    clear(tableHost).append(entries.length ? entriesTable(entries, context.catalog, (value) => filterBy(actor, value), (value) => filterBy(receipt, value)) : h("p", { class: "empty", i18n: "audit.empty" }));
  }

  function filterBy(input, value) {
    input.value = value;
    restart();
  }

  function restart() {
    pager.restart();
  }

  // A date that names no day is said beside its field, and nothing is asked.
  function datesRead() {
    let first = null;
    for (const input of [since, until]) {
      const { date, problem } = readDate(input.value);
      const error = errorOf(input);
      if (problem) {
        text(error, problem);
        input.setAttribute("aria-invalid", "true");
        first ??= input;
      } else {
        clear(error);
        delete error.dataset.i18n;
        input.removeAttribute("aria-invalid");
        if (date) input.value = date;
      }
    }
    const [from, to] = [readDate(since.value).date, readDate(until.value).date];
    if (!first && from && to && to < from) {
      text(errorOf(until), "audit.until_before_since");
      until.setAttribute("aria-invalid", "true");
      first = until;
    }
    first?.focus();
    return !first;
  }

  for (const input of [since, until]) {
    input.addEventListener("input", () => {
      clear(errorOf(input));
      delete errorOf(input).dataset.i18n;
      input.removeAttribute("aria-invalid");
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (datesRead()) restart();
  });
  form.addEventListener("reset", () =>
    setTimeout(() => {
      datesRead();
      restart();
    }),
  );
  verify.addEventListener("click", checkChain);
  checkChain();
  load();
  root.querySelector("h1").focus();
}

function entriesTable(entries, catalog, byActor, byReceipt) {
  const column = (key) => h("th", { scope: "col", i18n: key });
  return h(
    "table",
    { class: "data audit" },
    h("caption", { class: "visually-hidden", i18n: "audit.caption" }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        column("audit.sequence"),
        column("audit.time"),
        column("audit.actor"),
        column("audit.action"),
        column("audit.receipt"),
        column("audit.fields"),
        column("audit.detail"),
      ),
    ),
    h(
      "tbody",
      {},
      entries.map((entry) =>
        h(
          "tr",
          { "data-sequence": entry.sequence, "data-action": entry.action },
          h("td", { class: "mono number" }, entry.sequence),
          h("td", { class: "time" }, formatTime(entry.createTime)),
          h(
            "td",
            {},
            h("button", { type: "button", class: "link mono", title: t("audit.by_actor"), on: { click: () => byActor(entry.actor) } }, entry.actor),
            entry.actorName ? h("span", { class: "actor-name" }, " ", entry.actorName) : null,
          ),
          // An action the console has no words for shows as its code.
          h("td", {}, t(`audit.did.${entry.action}`) !== `audit.did.${entry.action}` ? h("span", { class: "action", title: entry.action, i18n: `audit.did.${entry.action}` }) : h("code", {}, entry.action)),
          h("td", {}, entry.receipt ? h("button", { type: "button", class: "link mono", title: t("audit.by_case"), on: { click: () => byReceipt(entry.receipt) } }, entry.receipt) : ""),
          h("td", { class: "fields" }, (entry.fields ?? []).map((f) => h("code", {}, f, " "))),
          h("td", { class: "note" }, detailCell(entry.detail, catalog)),
        ),
      ),
    ),
  );
}

// An entry's detail is recorded in codes (a department, a state, materials handed in, a count
// found); people read their names, in the console's language. What has no name shows as is.
function detailCell(detail, catalog) {
  const raw = detail || "";
  const department = /^(assistance|elderly|orgs|registry)(?=$|[: ])(?::\s*)?(.*)$/s.exec(raw);
  if (department) {
    const rest = department[2] ? [h("span", { i18n: "common.colon" }), ...detailWords(department[2], catalog)] : [];
    return [h("span", { i18n: `department.${department[1]}` }), ...rest];
  }
  return detailWords(raw, catalog);
}

// Ingest records its entries as key=value codes: each key named in the console's language,
// agencies and departments by name, the values (ids, dates, counts) as they are.
const DETAIL_CODES = /^[a-z_]+=\S+(?: [a-z_]+=\S+)*$/;

function detailCodes(raw) {
  return raw.split(" ").flatMap((pair, i) => {
    const [key, value] = pair.split(/=(.*)/s);
    const named =
      key === "agency" ? h("span", { i18n: `agency.${value}`, title: value })
      : key === "department" ? h("span", { i18n: `department.${value}`, title: value })
      : h("code", {}, value);
    return [i ? h("span", { i18n: "audit.list_separator" }) : null, h("span", { i18n: `audit.code.${key}` }), h("span", { i18n: "common.colon" }), named];
  });
}

function detailWords(raw, catalog) {
  if (DETAIL_CODES.test(raw)) return detailCodes(raw);
  if (/^CASE_STATE_[A-Z_]+$/.test(raw)) return [h("span", { i18n: `state.${raw}`, title: raw })];
  if (/^DIVORCE_STATE_[A-Z_]+$/.test(raw)) return [h("span", { i18n: `divorce.state.${raw}`, title: raw })];
  const count = /^(\d+) found$/.exec(raw);
  if (count) return [h("span", { i18n: ["audit.found", { count: Number(count[1]) }] })];
  const codes = raw.split(/,\s*/);
  const materials = new Map(catalog.flatMap((m) => m.requiredMaterials ?? []).map((m) => [m.code, m]));
  if (raw && codes.every((code) => materials.has(code))) {
    return codes.flatMap((code, i) => {
      const m = materials.get(code);
      return [i ? h("span", { i18n: "audit.list_separator" }) : null, h("span", { title: code, zhen: [m.titleZh, m.titleEn] })];
    });
  }
  // A detail the console has no words for is shown as it was recorded, a code, like an action
  // it has no words for.
  return raw ? [h("code", {}, raw)] : [];
}
