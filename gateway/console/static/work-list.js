// The window's work list: today's applications, those awaiting materials, due soon and
// overdue, filtered by matter and status, a page at a time (the API's keyset pages). A case
// awaiting materials opens the supply screen from its row.
import { call } from "./api.js";
import { formatTime, text } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { keysetPager } from "./pager.js";
import { refusalMessage, statusBadge } from "./case-view.js";

const PAGE_SIZE = 20;
export const WORK_LISTS = ["today", "awaiting_materials", "due_soon", "overdue"];
// The statuses a clerk filters by (the API takes the enum's short names).
const STATUSES = ["accepted", "routed", "awaiting_materials", "approved", "rejected", "completed", "withdrawn", "lapsed", "forwarded"];

export function renderWorkList(root, context, list) {
  const current = WORK_LISTS.includes(list) ? list : "today";
  const tabs = h("div", { class: "tabs", role: "tablist" });
  for (const name of WORK_LISTS) {
    tabs.append(
      h("a", {
        role: "tab",
        href: `#/worklist/${name}`,
        class: "tab",
        "data-list": name,
        "aria-selected": name === current ? "true" : "false",
        i18n: `worklist.${name}`,
      }),
    );
  }
  const matterId = uniqueId("matter");
  const matter = h("select", { id: matterId, name: "matter" }, h("option", { value: "", i18n: "worklist.any_matter" }));
  for (const m of context.catalog) matter.append(h("option", { value: m.code, zhen: [m.titleZh, m.titleEn] }));
  const statusId = uniqueId("status");
  const status = h("select", { id: statusId, name: "status" }, h("option", { value: "", i18n: "worklist.any_status" }));
  for (const s of STATUSES) status.append(h("option", { value: s, i18n: `status.CASE_STATUS_${s.toUpperCase()}` }));
  const filters = h(
    "form",
    { class: "toolbar filters", novalidate: true },
    h("label", { for: matterId, i18n: "worklist.matter" }),
    matter,
    h("label", { for: statusId, i18n: "worklist.status" }),
    status,
  );
  const tableHost = h("div", { class: "worklist-table" });
  const pageInfo = h("span", { class: "page-info", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "secondary", i18n: "queue.previous" });
  const next = h("button", { type: "button", class: "secondary", i18n: "queue.next" });
  clear(root).append(
    h(
      "div",
      { class: "view view-worklist", "data-list": current },
      h("h1", { tabindex: "-1", i18n: "worklist.title" }),
      h("p", { class: "hint", i18n: `worklist.hint.${current}` }),
      tabs,
      filters,
      h("div", { class: "toolbar" }, h("span", { class: "spacer" }), pageInfo, previous, next),
      tableHost,
    ),
  );

  const pager = keysetPager(previous, next, load);

  async function load() {
    clear(tableHost).append(h("p", { class: "loading", i18n: "common.loading" }));
    const ticket = pager.loading();
    const query = new URLSearchParams({ workList: current, pageSize: String(PAGE_SIZE) });
    if (matter.value) query.set("matterCode", matter.value);
    if (status.value) query.set("status", status.value);
    if (pager.token) query.set("pageToken", pager.token);
    let answer;
    try {
      answer = await call("GET", `/v1/applications?${query}`);
    } catch (error) {
      if (pager.stale(ticket)) return;
      clear(tableHost).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
      return;
    }
    if (pager.stale(ticket)) return;
    const applications = answer.applications ?? [];
    pager.arrived(answer.nextPageToken);
    text(pageInfo, "queue.page", { page: pager.page + 1, count: applications.length });
    clear(tableHost).append(applications.length ? applicationsTable(applications, context) : h("p", { class: "empty", i18n: "worklist.empty" }));
  }

  for (const select of [matter, status]) {
    select.addEventListener("change", () => pager.restart());
  }
  root.querySelector("h1").focus();
  load();
}

// Applications as the window's lists and the search show them: masked, each opening its case.
export function applicationsTable(applications, context) {
  const body = h("tbody");
  for (const a of applications) {
    const matter = context.catalog.find((m) => m.code === a.matterCode);
    const actions = h("td", { class: "actions" });
    if (a.status === "CASE_STATUS_AWAITING_MATERIALS") {
      actions.append(h("a", { class: "button secondary small", href: `#/supply/${a.receipt}`, "data-action": "supply", i18n: "worklist.supply" }));
    }
    if (a.matterCode === "registry.divorce" && a.status === "CASE_STATUS_ROUTED") {
      actions.append(h("a", { class: "button secondary small", href: `#/divorce/${a.receipt}`, "data-action": "divorce", i18n: "worklist.divorce" }));
    }
    body.append(
      h(
        "tr",
        { "data-receipt": a.receipt },
        h("th", { scope: "row" }, h("a", { class: "mono", href: `#/lookup/${a.receipt}` }, a.receipt)),
        h("td", {}, matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : a.matterCode),
        h("td", { class: "applicant" }, a.applicantName || "—", h("br"), h("span", { class: "mono" }, a.applicantIdNumber || "")),
        h("td", {}, statusBadge(a.status), a.overdue ? h("span", { class: "badge bad overdue", i18n: "queue.overdue" }) : null),
        h("td", { class: "when" }, formatTime(a.createTime)),
        h("td", {}, a.status === "CASE_STATUS_AWAITING_MATERIALS" ? h("span", { i18n: "worklist.paused" }) : formatTime(a.decisionDeadline)),
        actions,
      ),
    );
  }
  const head = ["worklist.receipt", "receipt.matter", "lookup.applicant", "receipt.status", "receipt.accepted_at", "receipt.deadline", "worklist.actions"];
  return h(
    "table",
    { class: "data applications" },
    h("thead", {}, h("tr", {}, ...head.map((key) => h("th", { scope: "col", i18n: key })))),
    body,
  );
}
