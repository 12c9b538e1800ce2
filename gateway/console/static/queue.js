// A department officer's queue: the department's open cases, oldest first, the overdue ones
// marked, each approved, rejected or sent back for materials from here.
import { call, newRequestId } from "./api.js";
import { divisionName, shortDivisionName } from "./divisions.js";
import { formatTime, formatYuan, recordText, t, text } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { refusalMessage } from "./case-view.js";

const PAGE_SIZE = 20;
const DAY = 24 * 60 * 60 * 1000;
// As the overdue list counts "near a deadline" (gateway/applications.py).
const DUE_SOON_DAYS = 3;

const DECISIONS = {
  approve: { value: "DECISION_APPROVE", reasonRequired: false },
  reject: { value: "DECISION_REJECT", reasonRequired: true },
  materials: { value: "DECISION_REQUEST_MATERIALS", reasonRequired: true },
};

export function renderQueue(root, context) {
  const department = context.claims.department;
  const status = h("p", { class: "banner ok-banner", role: "status", tabindex: "-1", hidden: true });
  const tableHost = h("div", { class: "queue-table" });
  const pageInfo = h("span", { class: "page-info", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "secondary", i18n: "queue.previous" });
  const next = h("button", { type: "button", class: "secondary", i18n: "queue.next" });
  const reload = h("button", { type: "button", class: "secondary", i18n: "queue.refresh" });
  const dialog = decisionDialog(context, department, (receipt, decision) => {
    text(status, `queue.done.${decision}`, { receipt });
    status.hidden = false;
    // The decided row leaves the queue, and focus with it: keep it on the outcome.
    status.focus();
    load();
  });
  clear(root).append(
    h(
      "div",
      { class: "view view-queue" },
      h("h1", { tabindex: "-1" }, h("span", { i18n: "queue.title" }), " · ", h("span", { i18n: `department.${department}` })),
      h("p", { class: "hint", i18n: "queue.hint" }),
      status,
      h("div", { class: "toolbar" }, reload, h("span", { class: "spacer" }), pageInfo, previous, next),
      tableHost,
      dialog.element,
    ),
  );

  // Page tokens seen so far: the API pages forward only, so going back re-asks an older one.
  const tokens = [""];
  let page = 0;
  let nextToken = "";

  async function load() {
    clear(tableHost).append(h("p", { class: "loading", i18n: "common.loading" }));
    previous.disabled = true;
    next.disabled = true;
    let answer;
    try {
      const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
      if (tokens[page]) query.set("pageToken", tokens[page]);
      answer = await call("GET", `/v1/departments/${encodeURIComponent(department)}/cases?${query}`);
    } catch (error) {
      clear(tableHost).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
      return;
    }
    const cases = answer.cases ?? [];
    nextToken = answer.nextPageToken || "";
    previous.disabled = page === 0;
    next.disabled = !nextToken;
    text(pageInfo, "queue.page", { page: page + 1, count: cases.length });
    clear(tableHost).append(cases.length ? casesTable(cases, context, dialog) : h("p", { class: "empty", i18n: "queue.empty" }));
  }

  previous.addEventListener("click", () => {
    if (page === 0) return;
    page -= 1;
    load();
  });
  next.addEventListener("click", () => {
    if (!nextToken) return;
    tokens[page + 1] = nextToken;
    page += 1;
    load();
  });
  reload.addEventListener("click", () => {
    status.hidden = true;
    load();
  });
  load();
  root.querySelector("h1").focus();
}

function overdueState(departmentCase, now) {
  // The clock stops while materials are awaited, so only an open case can be overdue.
  if (departmentCase.state !== "CASE_STATE_OPEN" || !departmentCase.decisionDeadline) return null;
  const deadline = new Date(departmentCase.decisionDeadline).getTime();
  if (deadline < now) return "overdue";
  if (deadline - now < DUE_SOON_DAYS * DAY) return "due_soon";
  return null;
}

function casesTable(cases, context, dialog) {
  const now = Date.now();
  const body = h("tbody");
  for (const departmentCase of cases) {
    const matter = context.catalog.find((m) => m.code === departmentCase.matterCode);
    const urgency = overdueState(departmentCase, now);
    const assessment = departmentCase.assessment ?? {};
    const actions = h("div", { class: "row-actions" });
    for (const decision of Object.keys(DECISIONS)) {
      actions.append(
        h("button", {
          type: "button",
          class: decision === "approve" ? "primary small" : decision === "reject" ? "danger small" : "secondary small",
          "data-decision": decision,
          i18n: `queue.action.${decision}`,
          "aria-label": `${t(`queue.action.${decision}`)} ${departmentCase.receipt}`,
          on: { click: () => dialog.open(departmentCase, matter, decision) },
        }),
      );
    }
    body.append(
      h(
        "tr",
        { class: urgency ?? "", "data-receipt": departmentCase.receipt },
        h("th", { scope: "row", class: "mono receipt-cell" }, departmentCase.receipt),
        h("td", {}, matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : departmentCase.matterCode),
        h("td", { title: divisionName(departmentCase.hukouDivision) || null }, shortDivisionName(departmentCase.hukouDivision)),
        h("td", { class: "time" }, formatTime(departmentCase.createTime)),
        h(
          "td",
          { class: "time" },
          formatTime(departmentCase.decisionDeadline),
          urgency ? h("span", { class: `badge ${urgency === "overdue" ? "bad" : "warn"}`, i18n: `queue.${urgency}` }) : null,
        ),
        h("td", {}, h("span", { class: "state", i18n: `state.${departmentCase.state}` })),
        h(
          "td",
          { class: "assessment" },
          h("span", { class: `badge ${assessment.eligible ? "good" : "neutral"}`, i18n: assessment.eligible ? "queue.eligible" : "queue.not_eligible" }),
          assessment.amountFen && Number(assessment.amountFen) > 0
            ? h("span", { class: "amount", i18n: ["queue.amount", { yuan: formatYuan(assessment.amountFen) }] })
            : null,
          h("span", { class: "note" }, assessment.reason || ""),
        ),
        h("td", {}, actions),
      ),
    );
  }
  const column = (key, className = "") => h("th", { scope: "col", class: className, i18n: key });
  return h(
    "table",
    { class: "data queue" },
    h("caption", { class: "visually-hidden", i18n: "queue.caption" }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        column("receipt.number", "col-receipt"),
        column("receipt.matter", "col-matter"),
        column("lookup.hukou", "col-division"),
        column("receipt.accepted_at", "col-time"),
        column("receipt.deadline", "col-time"),
        column("lookup.state", "col-state"),
        column("queue.assessment", "col-assessment"),
        column("queue.actions", "col-actions"),
      ),
    ),
    body,
  );
}

function decisionDialog(context, department, decided) {
  const titleId = uniqueId("decision");
  const title = h("h2", { id: titleId });
  const summary = h("div", { class: "decision-summary" });
  const materialsHost = h("fieldset", { class: "decision-materials", hidden: true }, h("legend", { i18n: "queue.materials_legend" }));
  const reasonId = uniqueId("reason");
  const reasonLabel = h("label", { for: reasonId });
  const reason = h("textarea", { id: reasonId, rows: "3", maxlength: "1000", "aria-describedby": `${reasonId}-error` });
  const error = h("p", { class: "error", id: `${reasonId}-error`, "aria-live": "assertive" });
  const confirm = h("button", { type: "submit", class: "primary" });
  const cancel = h("button", { type: "button", class: "secondary", i18n: "common.cancel" });
  const form = h(
    "form",
    { novalidate: true },
    title,
    summary,
    materialsHost,
    h("div", { class: "field" }, reasonLabel, reason, error),
    h("div", { class: "dialog-actions" }, confirm, cancel),
  );
  const element = h("dialog", { class: "decision-dialog", "aria-labelledby": titleId }, form);
  cancel.addEventListener("click", () => element.close());

  let current = null;
  let sending = false;

  function open(departmentCase, matter, decision) {
    // One request id per opened dialog: a double click on confirm is one decision.
    current = { departmentCase, matter, decision, requestId: newRequestId() };
    text(title, `queue.dialog.${decision}`, { receipt: departmentCase.receipt });
    const assessment = departmentCase.assessment ?? {};
    clear(summary).append(
      h("p", {}, matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : departmentCase.matterCode),
      h("p", { class: "note" }, h("span", { i18n: "queue.assessment" }), "：", assessment.reason || "—"),
      assessment.facts?.length
        ? h("ul", { class: "facts-list" }, assessment.facts.map((f) => h("li", {}, f.label || f.name, "：", f.text || f.value)))
        : null,
    );
    const needsMaterials = decision === "materials";
    materialsHost.hidden = !needsMaterials;
    for (const old of materialsHost.querySelectorAll("div.check-line")) old.remove();
    if (needsMaterials && matter) {
      for (const material of matter.requiredMaterials) {
        const id = uniqueId("ask");
        materialsHost.append(
          h(
            "div",
            { class: "check-line" },
            h("input", { type: "checkbox", id, value: material.code }),
            h("label", { for: id }, h("span", { zhen: [material.titleZh, material.titleEn] }), " ", h("code", { class: "material-code" }, material.code)),
          ),
        );
      }
    }
    text(reasonLabel, DECISIONS[decision].reasonRequired ? `queue.reason.${decision}` : "queue.reason.approve");
    reason.value = "";
    reason.required = DECISIONS[decision].reasonRequired;
    error.textContent = "";
    reason.removeAttribute("aria-invalid");
    text(confirm, `queue.confirm.${decision}`);
    confirm.className = decision === "reject" ? "danger" : "primary";
    element.showModal();
    // Approving needs nothing more, so Enter confirms it; a rejection or a request for
    // materials starts where the officer must write or choose.
    (decision === "approve" ? confirm : needsMaterials ? materialsHost.querySelector("input") : reason)?.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current || sending) return;
    const { departmentCase, matter, decision, requestId } = current;
    const asked = [...materialsHost.querySelectorAll("input:checked")].map((box) => {
      const material = matter?.requiredMaterials.find((m) => m.code === box.value);
      return material ? `${material.titleZh}（${material.code}）` : box.value;
    });
    if (decision === "materials" && !asked.length) {
      text(error, "queue.error.materials");
      materialsHost.querySelector("input")?.focus();
      return;
    }
    const typed = reason.value.trim();
    if (DECISIONS[decision].reasonRequired && !typed && decision !== "materials") {
      text(error, "queue.error.reason");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    // The timeline shows the reason to the window clerk, who tells the applicant what to
    // bring; the material codes let the clerk record them when they are handed in.
    const fullReason = decision === "materials" ? [`${recordText("queue.materials_prefix")}${asked.join("、")}`, typed].filter(Boolean).join("。") : typed;
    sending = true;
    confirm.disabled = true;
    try {
      await call(
        "POST",
        `/v1/departments/${encodeURIComponent(department)}/cases/${encodeURIComponent(departmentCase.receipt)}:decide`,
        { requestId, decision: DECISIONS[decision].value, reason: fullReason },
      );
      element.close();
      decided(departmentCase.receipt, decision);
    } catch (failure) {
      clear(error).append(refusalMessage(failure));
    } finally {
      sending = false;
      confirm.disabled = false;
    }
  });

  return { element, open };
}
