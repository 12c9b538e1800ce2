// A department officer's queue: the department's open cases, oldest first, the overdue ones
// marked, each approved, rejected or sent back for materials from here.
import { call, newRequestId } from "./api.js";
import { divisionName, shortDivisionName } from "./divisions.js";
import { attribute, currentLanguage, formatTime, formatYuan, recordText, setLanguage, t, text, whileShown } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { keysetPager } from "./pager.js";
import { refusalMessage, timelineSection } from "./case-view.js";

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

  const pager = keysetPager(previous, next, load);

  async function load() {
    clear(tableHost).append(h("p", { class: "loading", i18n: "common.loading" }));
    const ticket = pager.loading();
    let answer;
    try {
      const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
      if (pager.token) query.set("pageToken", pager.token);
      answer = await call("GET", `/v1/departments/${encodeURIComponent(department)}/cases?${query}`);
    } catch (error) {
      if (pager.stale(ticket)) return;
      clear(tableHost).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
      return;
    }
    if (pager.stale(ticket)) return;
    const cases = answer.cases ?? [];
    pager.arrived(answer.nextPageToken);
    text(pageInfo, "queue.page", { page: pager.page + 1, count: cases.length });
    clear(tableHost).append(cases.length ? casesTable(cases, context, dialog) : h("p", { class: "empty", i18n: "queue.empty" }));
    dialog.relabel(cases);
  }

  // The assessments come rendered in one language: the page is asked for again in the other,
  // and an open decision dialog takes the new words without losing what was typed.
  whileShown(tableHost, load);

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
    const actions = h(
      "div",
      { class: "row-actions" },
      h("a", {
        class: "button secondary small",
        href: `#/file/${encodeURIComponent(departmentCase.receipt)}`,
        "data-action": "file",
        i18n: "file.open",
        "aria-label": `${t("file.open")} ${departmentCase.receipt}`,
      }),
    );
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
  const templateId = uniqueId("template");
  const template = h("select", { id: templateId, "data-field": "template" });
  const templateField = h("div", { class: "field", hidden: true }, h("label", { for: templateId, i18n: "file.template" }), template);
  const reasonId = uniqueId("reason");
  const reasonLabel = h("label", { for: reasonId });
  const reason = h("textarea", { id: reasonId, rows: "3", maxlength: "1000", "aria-describedby": `${reasonId}-error` });
  const error = h("p", { class: "error", id: `${reasonId}-error`, "aria-live": "assertive" });
  const confirm = h("button", { type: "submit", class: "primary" });
  const cancel = h("button", { type: "button", class: "secondary", i18n: "common.cancel" });
  // The page's own language switch is out of reach behind a modal dialog: it has its own.
  const language = h("button", { type: "button", class: "chrome-button dialog-language" });
  const drawLanguage = () => {
    const other = currentLanguage() === "zh" ? "en" : "zh";
    language.textContent = other === "en" ? "English" : "中文";
    language.setAttribute("lang", other === "en" ? "en" : "zh-CN");
    attribute(language, "aria-label", "language.switch");
  };
  drawLanguage();
  language.addEventListener("click", () => setLanguage(currentLanguage() === "zh" ? "en" : "zh"));
  const form = h(
    "form",
    { novalidate: true },
    h("div", { class: "dialog-heading" }, title, language),
    summary,
    materialsHost,
    templateField,
    h("div", { class: "field" }, reasonLabel, reason, error),
    h("div", { class: "dialog-actions" }, confirm, cancel),
  );
  const element = h("dialog", { class: "decision-dialog", "aria-labelledby": titleId }, form);
  cancel.addEventListener("click", () => element.close());

  let current = null;
  let sending = false;

  // The case's words as the server rendered them, in the language of the last fetch.
  function drawSummary(departmentCase, matter) {
    const assessment = departmentCase.assessment ?? {};
    clear(summary).append(
      h("p", {}, matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : departmentCase.matterCode),
      h("p", { class: "note" }, h("span", { i18n: "queue.assessment" }), h("span", { i18n: "common.colon" }), assessment.reason || "—"),
      assessment.facts?.length ? factsList(assessment.facts) : null,
    );
  }

  function drawTemplates(templates, decision) {
    // The catalog's reasons for this matter and decision; the officer's words follow the text.
    const chosen = template.selectedOptions[0]?.dataset.code ?? "";
    const offered = templates.filter((each) => each.decision === DECISIONS[decision].value);
    clear(template).append(
      h("option", { value: "", i18n: "file.template_none" }),
      ...offered.map((each) => h("option", { value: each.text, "data-code": each.code, selected: each.code === chosen }, each.text)),
    );
    templateField.hidden = !offered.length;
  }

  function open(departmentCase, matter, decision, templates = []) {
    // One request id per opened dialog: a double click on confirm is one decision.
    current = { departmentCase, matter, decision, requestId: newRequestId() };
    template.value = "";
    drawTemplates(templates, decision);
    text(title, `queue.dialog.${decision}`, { receipt: departmentCase.receipt });
    drawSummary(departmentCase, matter);
    drawLanguage();
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
    // The clerk's supply screen finds the materials asked for by their titles in the note.
    const asked = [...materialsHost.querySelectorAll("input:checked")].map((box) => {
      const material = matter?.requiredMaterials.find((m) => m.code === box.value);
      return material ? material.titleZh : box.value;
    });
    const chosen = templateField.hidden ? "" : template.value;
    if (decision === "materials" && !asked.length && !chosen) {
      text(error, "queue.error.materials");
      materialsHost.querySelector("input")?.focus();
      return;
    }
    const typed = recordSentences(chosen, reason.value.trim());
    if (DECISIONS[decision].reasonRequired && !typed && decision !== "materials") {
      text(error, "queue.error.reason");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    // The timeline shows the reason to the window clerk, who tells the applicant what to
    // bring; the material codes let the clerk record them when they are handed in.
    const fullReason =
      decision === "materials" && asked.length ? recordSentences(`${recordText("queue.materials_prefix")}${asked.join("、")}`, typed) : typed;
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

  // The view fetched its cases again (in the language just chosen): an open dialog redraws
  // what came from the server and keeps the reason typed, the template and the boxes ticked.
  function relabel(cases, templates) {
    drawLanguage();
    if (!element.open || !current) return;
    const fresh = cases.find((each) => each.receipt === current.departmentCase.receipt);
    if (!fresh) return;
    current.departmentCase = fresh;
    drawSummary(fresh, current.matter);
    if (templates) drawTemplates(templates, current.decision);
  }

  return { element, open, relabel };
}

// Sentences of the record, in Chinese: each ends with its full stop, and none is added
// where the officer ended one already.
function recordSentences(...parts) {
  return parts
    .filter(Boolean)
    .map((part, i, all) => (i < all.length - 1 && !/[。！？；.!?;]$/.test(part) ? `${part}。` : part))
    .join("");
}

// An assessment's facts, each under the name the gateway's catalog gives it in the language
// asked for (its code where the catalog has none).
function factsList(facts) {
  return h(
    "dl",
    { class: "facts-list" },
    facts.flatMap((f) => [h("dt", { "data-fact": f.name }, f.label || f.name), h("dd", {}, f.text || f.value || "—")]),
  );
}

// The case file an officer reads before deciding, and decides from.
export function renderCaseFile(root, context, receipt) {
  const department = context.claims.department;
  const status = h("p", { class: "banner ok-banner", role: "status", tabindex: "-1", hidden: true });
  const host = h("div", { class: "case-file" }, h("p", { class: "loading", i18n: "common.loading" }));
  const dialog = decisionDialog(context, department, (decidedReceipt, decision) => {
    text(status, `queue.done.${decision}`, { receipt: decidedReceipt });
    status.hidden = false;
    status.focus();
    load();
  });
  clear(root).append(
    h(
      "div",
      { class: "view view-case-file" },
      h("p", {}, h("a", { href: "#/queue", i18n: "file.back" })),
      h("h1", { tabindex: "-1" }, h("span", { i18n: "file.title" }), " ", h("span", { class: "mono" }, receipt)),
      status,
      host,
      dialog.element,
    ),
  );

  async function load() {
    let found;
    try {
      found = await call("GET", `/v1/departments/${encodeURIComponent(department)}/cases/${encodeURIComponent(receipt)}/file`);
    } catch (error) {
      clear(host).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
      return;
    }
    clear(host).append(...caseFileSections(found, context, dialog));
    dialog.relabel([found.case ?? {}], found.reasonTemplates ?? []);
  }
  whileShown(host, load);
  load();
  root.querySelector("h1").focus();
}

function caseFileSections(found, context, dialog) {
  const departmentCase = found.case ?? {};
  const application = found.application ?? {};
  const matter = context.catalog.find((m) => m.code === departmentCase.matterCode);
  const assessment = departmentCase.assessment ?? {};
  const section = (key, ...content) => {
    const id = uniqueId("file");
    return h("section", { class: "file-section", "aria-labelledby": id }, h("h2", { id, i18n: key }), ...content);
  };
  const open = departmentCase.state === "CASE_STATE_OPEN" || departmentCase.state === "CASE_STATE_AWAITING_MATERIALS";
  const actions = h("div", { class: "row-actions file-actions" });
  if (open) {
    for (const decision of Object.keys(DECISIONS)) {
      if (decision === "materials" && departmentCase.state === "CASE_STATE_AWAITING_MATERIALS") continue;
      actions.append(
        h("button", {
          type: "button",
          class: decision === "approve" ? "primary" : decision === "reject" ? "danger" : "secondary",
          "data-decision": decision,
          i18n: `queue.action.${decision}`,
          on: { click: () => dialog.open(departmentCase, matter, decision, found.reasonTemplates ?? []) },
        }),
      );
    }
  }
  const members = found.members ?? [];
  const income = members.reduce((sum, m) => sum + Number(m.monthlyIncomeFen || 0), 0);
  return [
    h(
      "dl",
      { class: "facts file-summary" },
      h("dt", { i18n: "receipt.matter" }),
      h("dd", {}, matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : departmentCase.matterCode),
      h("dt", { i18n: "lookup.state" }),
      h("dd", {}, h("span", { class: "state", "data-state": departmentCase.state, i18n: `state.${departmentCase.state}` })),
      h("dt", { i18n: "file.applicant" }),
      h("dd", {}, `${application.applicantName || ""} ${application.applicantIdNumber || ""}`),
      h("dt", { i18n: "lookup.hukou" }),
      h("dd", {}, divisionName(departmentCase.hukouDivision) || departmentCase.hukouDivision || "—"),
      h("dt", { i18n: "receipt.deadline" }),
      h("dd", {}, formatTime(departmentCase.decisionDeadline)),
    ),
    actions,
    section(
      "file.members",
      members.length
        ? h(
            "table",
            { class: "data members" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col", i18n: "file.member_name" }),
                h("th", { scope: "col", i18n: "file.member_id" }),
                h("th", { scope: "col", i18n: "file.member_relation" }),
                h("th", { scope: "col", class: "number", i18n: "file.member_income" }),
              ),
            ),
            h(
              "tbody",
              {},
              members.map((m) =>
                h(
                  "tr",
                  {},
                  h("td", {}, m.name),
                  h("td", { class: "mono" }, m.idNumber),
                  h("td", {}, m.relation),
                  h("td", { class: "number" }, formatYuan(m.monthlyIncomeFen || 0)),
                ),
              ),
            ),
            h(
              "tfoot",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "row", colspan: "3", i18n: ["file.per_capita", { count: members.length }] }),
                h("td", { class: "number" }, formatYuan(Math.round(income / members.length))),
              ),
            ),
          )
        : h("p", { class: "empty", i18n: "file.no_members" }),
    ),
    section(
      "file.materials",
      h(
        "ul",
        { class: "materials-list" },
        (found.materials ?? []).map((m) =>
          h(
            "li",
            { "data-material": m.code, class: m.handedIn ? "handed-in" : "missing" },
            h("span", { class: `badge ${m.handedIn ? "good" : "bad"}`, i18n: m.handedIn ? "file.handed_in" : "file.missing" }),
            " ",
            m.titleZh ? h("span", { zhen: [m.titleZh, m.titleEn] }) : h("code", {}, m.code),
          ),
        ),
      ),
    ),
    section(
      "queue.assessment",
      h("p", {}, h("span", { class: `badge ${assessment.eligible ? "good" : "neutral"}`, i18n: assessment.eligible ? "queue.eligible" : "queue.not_eligible" }),
        assessment.amountFen && Number(assessment.amountFen) > 0 ? h("span", { class: "amount", i18n: ["queue.amount", { yuan: formatYuan(assessment.amountFen) }] }) : null),
      h("p", { class: "note" }, assessment.text || assessment.reason || ""),
      assessment.facts?.length ? factsList(assessment.facts) : null,
    ),
    section(
      "file.household",
      (found.householdCases ?? []).length
        ? h(
            "ul",
            { class: "household-cases" },
            found.householdCases.map((c) => {
              const other = context.catalog.find((m) => m.code === c.matterCode);
              return h(
                "li",
                { "data-receipt": c.receipt },
                h("span", { class: "mono" }, c.receipt),
                " ",
                other ? h("span", { zhen: [other.titleZh, other.titleEn] }) : c.matterCode,
                " ",
                h("span", { class: "state", i18n: `state.${c.state}` }),
                " ",
                h("time", {}, formatTime(c.createTime)),
              );
            }),
          )
        : h("p", { class: "empty", i18n: departmentCase.householdFile ? "file.household_none" : "file.household_no_file" }),
    ),
    found.householdWarningsUnavailable
      ? section("file.warnings", h("p", { class: "banner info-banner", role: "status", i18n: "file.warnings_unavailable" }))
      : householdWarnings(section, found.householdWarnings ?? [], departmentCase.householdFile),
    timelineSection(application.timeline ?? [], "lookup.timeline"),
  ];
}

// The department's warnings about the household file, beside its cases: what other agencies'
// records raised, how far it was worked, and the proactive case opened from it, if any. The
// reasons arrive rendered in the console's language; the times are shown in local time.
function householdWarnings(section, warnings, householdFile) {
  if (!warnings.length) {
    return section("file.warnings", h("p", { class: "empty", i18n: householdFile ? "file.warnings_none" : "file.household_no_file" }));
  }
  return section(
    "file.warnings",
    h(
      "ul",
      { class: "household-warnings" },
      warnings.map((w) => {
        const kind = (w.kind ?? "").replace("WARNING_KIND_", "");
        const state = (w.state ?? "").replace("WARNING_STATE_", "").toLowerCase();
        return h(
          "li",
          { "data-warning": w.warningId, "data-state": state },
          h("span", { class: "kind", i18n: `warnings.kind.${kind}` }),
          " ",
          h("span", { class: "state", i18n: `warnings.state.${state}` }),
          " ",
          h("time", {}, formatTime(w.createTime)),
          w.receipt ? [" ", h("span", { i18n: "file.warning_case" }), " ", h("a", { class: "mono", href: `#/lookup/${w.receipt}`, "data-action": "case" }, w.receipt)] : null,
          h("p", { class: "note reason" }, w.reason?.text ?? ""),
        );
      }),
    ),
  );
}
