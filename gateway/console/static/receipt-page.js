// The acceptance receipt (受理回执) the applicant takes home: printed from the browser, with
// the receipt number as a QR code drawn by the gateway, so the next window reads it back.
import { ApiRefusal, call } from "./api.js";
import { divisionName, shortDivisionName } from "./divisions.js";
import { attribute, formatTime } from "./i18n.js";
import { clear, h } from "./markup.js";
import { refusalMessage, statusBadge } from "./case-view.js";

export async function renderReceipt(root, context, receipt) {
  clear(root).append(h("p", { class: "loading", i18n: "common.loading" }));
  const submitted = context.submitted?.receipt === receipt ? context.submitted : null;
  // The ledger's view even right after submitting: it alone has the applicant masked and
  // the materials as stored; the gateway adds the bureau's contact line.
  let application;
  let bureauContact = "";
  try {
    const found = await call("GET", `/v1/applications/${encodeURIComponent(receipt)}`);
    application = found.application;
    bureauContact = found.bureauContact || "";
  } catch (error) {
    if (!(error instanceof ApiRefusal)) throw error;
    clear(root).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
    return;
  }
  const accepted = {
    receipt: application.receipt,
    matterCode: application.matterCode,
    status: application.status,
    departments: application.departments ?? [],
    decisionDeadline: application.decisionDeadline,
    traceId: application.traceId,
    acceptedAt: application.createTime,
    applicant: `${application.applicantName || "—"} ${application.applicantIdNumber || ""}`.trim(),
    materials: application.materials ?? [],
    window: application.acceptingDivision,
    created: submitted ? submitted.created !== false : true,
  };
  const matter = context.catalog.find((m) => m.code === accepted.matterCode);
  const bureau = shortDivisionName(context.claims.jurisdiction);
  const qr = h("img", {
    class: "qr",
    src: `qr/${encodeURIComponent(accepted.receipt)}.svg`,
    width: "168",
    height: "168",
  });
  attribute(qr, "alt", "receipt.qr_alt", { receipt: accepted.receipt });
  const departments = h("dd", {}, listed(accepted.departments.map((department) => h("span", { i18n: `department.${department}` }))));
  if (!accepted.departments.length) departments.append(h("span", { i18n: "receipt.forwarded_departments" }));
  const materials = h(
    "dd",
    { class: "materials-received" },
    listed(
      accepted.materials.map((code) => {
        const material = matter?.requiredMaterials?.find((m) => m.code === code);
        return material ? h("span", { "data-material": code, zhen: [material.titleZh, material.titleEn] }) : h("span", { class: "mono" }, code);
      }),
    ),
  );
  if (!accepted.materials.length) materials.append("—");
  // Who served the applicant: the clerk the ledger recorded accepting the application, not
  // whoever is signed in to print the slip (a colleague may reprint it). Cases accepted before
  // the ledger recorded it name nobody.
  const acceptedBy = application.acceptedBy ?? {};
  const clerk = acceptedBy.displayName || acceptedBy.subject || "—";

  const row = (labelKey, value) => [h("dt", { i18n: labelKey }), value instanceof Node && value.tagName === "DD" ? value : h("dd", {}, value)];
  const slip = h(
    "article",
    { class: "receipt-slip", "aria-labelledby": "receipt-title" },
    h(
      "header",
      { class: "slip-header" },
      h("p", { class: "bureau" }, h("span", { i18n: ["receipt.bureau", { bureau }] })),
      h("h1", { id: "receipt-title", i18n: "receipt.title", tabindex: "-1" }),
    ),
    h(
      "div",
      { class: "slip-body" },
      h(
        "dl",
        { class: "slip-facts" },
        row("receipt.number", h("strong", { class: "receipt-number", "data-receipt": accepted.receipt }, accepted.receipt)),
        row("receipt.matter", matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : accepted.matterCode),
        row("receipt.applicant", h("span", { class: "applicant" }, accepted.applicant)),
        row("receipt.materials", materials),
        row("receipt.departments", departments),
        row("receipt.window", h("span", { class: "window" }, `${divisionName(accepted.window) || ""} (${accepted.window})`)),
        row("receipt.clerk", h("span", { class: "clerk" }, clerk)),
        row("receipt.accepted_at", formatTime(accepted.acceptedAt)),
        row("receipt.deadline", h("span", {}, h("span", { class: "deadline" }, formatTime(accepted.decisionDeadline)), " ", h("span", { class: "zone", i18n: "receipt.local_time" }))),
        row("receipt.status", statusBadge(accepted.status)),
      ),
      h("figure", { class: "slip-qr" }, qr, h("figcaption", { i18n: "receipt.qr_caption" })),
    ),
    h(
      "footer",
      { class: "slip-footer" },
      h("p", { i18n: ["receipt.footer", { place: divisionName(context.claims.jurisdiction) }] }),
      bureauContact ? h("p", { class: "contact" }, h("span", { i18n: "receipt.contact" }), " ", contactLine(bureauContact)) : null,
      accepted.created === false ? h("p", { class: "note", i18n: "receipt.not_created" }) : null,
    ),
  );
  // For staff only: the trace of the submission, beside the slip but never printed on it.
  const staff = h(
    "p",
    { class: "staff-only no-print" },
    h("span", { i18n: "receipt.trace_id" }),
    " ",
    h("code", { class: "trace-id" }, accepted.traceId || "—"),
    " ",
    h("span", { class: "hint", i18n: "receipt.staff_only" }),
  );
  const actions = h(
    "div",
    { class: "page-actions no-print" },
    h("button", { type: "button", class: "primary", i18n: "receipt.print", on: { click: () => window.print() } }),
    h("a", { class: "button secondary", href: `#/lookup/${accepted.receipt}`, i18n: "receipt.follow" }),
    h("a", { class: "button secondary", href: "#/new", i18n: "receipt.next" }),
  );
  clear(root).append(
    h("div", { class: "view view-receipt" }, h("p", { class: "banner ok-banner no-print", role: "status", i18n: ["receipt.accepted", { receipt: accepted.receipt }] }), slip, staff, actions),
  );
  root.querySelector("h1").focus();
}

// Items as each language lists them (Intl.ListFormat: "、" and "和" in Chinese, commas and
// "and" in English), the separators following a later switch of language.
const LISTS = { zh: new Intl.ListFormat("zh-CN", { type: "conjunction" }), en: new Intl.ListFormat("en", { type: "conjunction" }) };

function separators(language, count) {
  const parts = LISTS[language].formatToParts(Array.from({ length: count }, (_, i) => String(i)));
  const between = [];
  let seen = 0;
  for (const part of parts) {
    if (part.type === "element") seen += 1;
    else if (seen > 0 && seen < count) between[seen - 1] = (between[seen - 1] ?? "") + part.value;
  }
  return between;
}

function listed(items) {
  const zh = separators("zh", items.length);
  const en = separators("en", items.length);
  return items.flatMap((item, i) => (i ? [h("span", { class: "list-separator", zhen: [zh[i - 1] ?? "、", en[i - 1] ?? ", "] }), item] : [item]));
}

// The contact line as configured, a note in brackets at its end ("（示例）", a made-up line's)
// set in the page language's brackets, and the sample's mark in its words.
function contactLine(configured) {
  const found = /^(.*?)\s*[（(]([^（）()]+)[）)]\s*$/.exec(configured);
  if (!found) return configured;
  const [, line, note] = found;
  const said = /^(示例|sample|example)$/i.test(note.trim()) ? h("span", { i18n: "receipt.sample" }) : note;
  return h("span", {}, line, h("span", { i18n: "receipt.note_open" }), said, h("span", { i18n: "receipt.note_close" }));
}
