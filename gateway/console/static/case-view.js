// Look-up by receipt number: where the case stands, each department's progress, the
// timeline and, for a case decided in the applicant's home jurisdiction, the status there.
// Personal data shows only as the API masks it.
import { ApiRefusal, call, Unreachable } from "./api.js";
import { divisionName } from "./divisions.js";
import { attribute, formatTime, t, text } from "./i18n.js";
import { RECEIPT, receiptTyped } from "./identity.js";
import { clear, h, uniqueId } from "./markup.js";
import { STRINGS } from "./strings.js";

const FINAL = new Set([
  "CASE_STATUS_APPROVED",
  "CASE_STATUS_REJECTED",
  "CASE_STATUS_COMPLETED",
  "CASE_STATUS_WITHDRAWN",
  "CASE_STATUS_LAPSED",
]);

export function statusBadge(status) {
  const tone = {
    CASE_STATUS_APPROVED: "good",
    CASE_STATUS_COMPLETED: "good",
    CASE_STATUS_REJECTED: "bad",
    CASE_STATUS_LAPSED: "bad",
    CASE_STATUS_WITHDRAWN: "neutral",
    CASE_STATUS_AWAITING_MATERIALS: "warn",
  }[status] ?? "info";
  return h("span", { class: `badge ${tone}`, "data-status": status, i18n: `status.${status || "CASE_STATUS_UNSPECIFIED"}` });
}

export function refusalMessage(error) {
  const message = h("span");
  if (error instanceof Unreachable) return text(message, "error.unreachable");
  if (!(error instanceof ApiRefusal)) return text(message, "error.server");
  const key =
    {
      401: "error.unauthenticated",
      403: "error.forbidden",
      404: "lookup.not_found",
    }[error.httpStatus] ?? (error.httpStatus >= 500 ? "error.server" : "error.refused");
  // A refusal whose reason the console has words for says why in the console's language, and
  // follows a later switch of it; otherwise the gateway's sentence, rendered in the language
  // the call asked for; otherwise what the status means.
  const because = refusalKey(error);
  if (because) text(message, because, error.metadata);
  else if (error.localizedMessage) message.textContent = error.localizedMessage;
  else text(message, key);
  const wrapper = h("span", {}, message);
  // Dates reckoned into a year with no holiday schedule are provisional, and said so.
  if (because.endsWith(".detailed") && error.metadata?.provisional_years) {
    wrapper.append(h("span", { i18n: ["refusal.provisional", { years: error.metadata.provisional_years.split(",").join(", ") }] }));
  }
  if (error.httpStatus === 400 && error.violations.length) {
    wrapper.append("：", error.violations.map((v) => `${v.field} ${v.description}`).join("; "));
  }
  if (error.traceId) wrapper.append(" ", h("span", { class: "trace" }, h("span", { i18n: "receipt.trace_id" }), " ", h("code", {}, error.traceId)));
  return wrapper;
}

// The console's words for a refusal's reason: with its particulars (`refusal.<REASON>.detailed`,
// a cooling-off's days) where the error's metadata fills every one they name, else without.
function refusalKey(error) {
  if (!error.reason) return "";
  const detailed = `refusal.${error.reason}.detailed`;
  const template = STRINGS.zh[detailed];
  if (template && [...template.matchAll(/\{(\w+)\}/g)].every(([, name]) => error.metadata?.[name])) return detailed;
  const plain = `refusal.${error.reason}`;
  return t(plain) !== plain ? plain : "";
}

export function renderLookup(root, context, receipt) {
  const inputId = uniqueId("receipt");
  const input = h("input", {
    id: inputId,
    name: "receipt",
    class: "mono receipt-input",
    autocomplete: "off",
    spellcheck: "false",
    // Room for the status page's address a QR scanner types (receiptTyped), not only a receipt.
    maxlength: "256",
    "aria-describedby": `${inputId}-error`,
  });
  attribute(input, "placeholder", "lookup.placeholder");
  input.value = receipt ?? "";
  const error = h("p", { class: "error", id: `${inputId}-error`, "aria-live": "polite" });
  const result = h("div", { class: "lookup-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "lookup-form", novalidate: true, role: "search" },
    h("label", { for: inputId, i18n: "lookup.receipt" }),
    h("div", { class: "inline" }, input, h("button", { type: "submit", class: "primary", i18n: "lookup.search" })),
    error,
  );
  clear(root).append(h("div", { class: "view view-lookup" }, h("h1", { i18n: "lookup.title", tabindex: "-1" }), form, result));

  input.addEventListener("input", () => {
    // Receipts use Crockford's alphabet in capitals; typing it in lower case is fine.
    const start = input.selectionStart;
    input.value = input.value.toUpperCase();
    input.setSelectionRange(start, start);
    error.textContent = "";
    input.removeAttribute("aria-invalid");
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = receiptTyped(input.value);
    if (!RECEIPT.test(wanted)) {
      // Whatever case was shown is not the one asked for now: it leaves the screen.
      clear(result);
      // A name or an identity number typed where a receipt goes: say where to search instead.
      text(error, /^[\d\sXx]{15,}$/.test(wanted) || /\p{Script=Han}/u.test(wanted) ? "lookup.not_a_receipt_person" : "lookup.bad_receipt");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    // A scanned address leaves the receipt in it on show.
    input.value = wanted;
    if (location.hash !== `#/lookup/${wanted}`) context.navigate(`#/lookup/${wanted}`);
    else show(result, wanted, context.catalog);
  });
  if (receipt) show(result, receipt, context.catalog);
  else root.querySelector("h1").focus();
}

async function show(result, receipt, catalog) {
  clear(result).append(h("p", { class: "loading", i18n: "common.loading" }));
  let application;
  try {
    application = (await call("GET", `/v1/applications/${encodeURIComponent(receipt)}`)).application;
  } catch (error) {
    clear(result).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
    return;
  }
  const refresh = h("button", {
    type: "button",
    class: "secondary",
    i18n: "lookup.refresh",
    on: { click: () => show(result, receipt, catalog) },
  });
  clear(result).append(caseDetails(application, refresh, catalog));
  // The timeline's and progress's texts come rendered in the language asked for: one
  // listener per result (a refresh replaces it), gone once the view is.
  if (languageListeners.has(result)) window.removeEventListener("onedoor:language", languageListeners.get(result));
  const again = () => {
    window.removeEventListener("onedoor:language", again);
    languageListeners.delete(result);
    if (result.isConnected) show(result, receipt, catalog);
  };
  languageListeners.set(result, again);
  window.addEventListener("onedoor:language", again);
}

const languageListeners = new WeakMap();

// The deadline's last day as the bureau counts it, with what is left in the matter's unit
// (working days skip holidays and count make-up days) and a mark while it is provisional.
function deadlineText(application) {
  const parts = [h("span", {}, formatTime(application.decisionDeadline))];
  const working = application.timeLimitUnit === "TIME_LIMIT_UNIT_WORKING_DAYS";
  const left = application.daysLeft ?? 0;
  if (application.status && !application.overdue && left > 0) {
    parts.push(" ", h("span", { class: "days-left", i18n: [working ? "deadline.working_left" : "deadline.days_left", { days: left }] }));
  }
  if (application.deadlineProvisional) {
    parts.push(" ", h("span", { class: "badge provisional", i18n: "deadline.provisional" }));
  }
  return h("span", {}, ...parts);
}

function caseDetails(application, refresh, catalog) {
  const facts = h("dl", { class: "facts" });
  const fact = (labelKey, value) => facts.append(h("dt", { i18n: labelKey }), h("dd", {}, value));
  const matter = catalog.find((m) => m.code === application.matterCode);
  fact("receipt.matter", matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : application.matterCode);
  fact("lookup.applicant", `${application.applicantName || "—"}  ${application.applicantIdNumber || ""}`);
  fact("lookup.hukou", `${divisionName(application.hukouDivision) || ""} (${application.hukouDivision || "—"})`);
  fact("lookup.accepting", `${divisionName(application.acceptingDivision) || ""} (${application.acceptingDivision || "—"})`);
  fact("receipt.accepted_at", formatTime(application.createTime));
  fact("receipt.deadline", deadlineText(application));
  fact("receipt.trace_id", h("code", {}, application.traceId || "—"));

  const heading = h(
    "div",
    { class: "case-heading" },
    h("h2", {}, h("span", { class: "mono" }, application.receipt)),
    statusBadge(application.status),
    application.overdue ? h("span", { class: "badge bad overdue", i18n: "queue.overdue" }) : null,
    h("span", { class: "spacer" }),
    refresh,
  );

  const sections = [heading, facts];
  sections.push(progressTable(application));
  if (application.forwarding) sections.push(forwardingSection(application.forwarding));
  sections.push(timelineSection(application.timeline ?? [], "lookup.timeline"));
  if (!FINAL.has(application.status)) sections.push(h("p", { class: "hint", i18n: "lookup.open_hint" }));
  return h("article", { class: "case", "data-receipt": application.receipt }, ...sections);
}

// A department's progress state as the labels and styles name it: "awaiting_materials", whether
// the API writes the word or the enum value PROGRESS_STATE_AWAITING_MATERIALS.
function progressState(entry) {
  return String(entry.state ?? "").replace(/^PROGRESS_STATE_/, "").toLowerCase();
}

function progressTable(application) {
  const id = uniqueId("progress");
  const progress = application.progress ?? [];
  const body = h("tbody");
  for (const entry of progress) {
    body.append(
      h(
        "tr",
        { "data-department": entry.department },
        h("th", { scope: "row", i18n: `department.${entry.department}` }),
        h("td", {}, h("span", { class: `state state-${progressState(entry)}`, i18n: `progress.${progressState(entry)}` })),
        h("td", { class: "note" }, entry.message?.text || entry.note || ""),
      ),
    );
  }
  if (!progress.length) {
    body.append(h("tr", {}, h("td", { colspan: "3", i18n: application.forwarding ? "lookup.no_progress_forwarded" : "lookup.no_progress" })));
  }
  return h(
    "section",
    { class: "progress", "aria-labelledby": id },
    h("h3", { id, i18n: "lookup.progress" }),
    h(
      "table",
      { class: "data" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", i18n: "lookup.department" }), h("th", { scope: "col", i18n: "lookup.state" }), h("th", { scope: "col", i18n: "lookup.note" }))),
      body,
    ),
  );
}

function forwardingSection(forwarding) {
  const id = uniqueId("forwarding");
  const facts = h("dl", { class: "facts" });
  const fact = (labelKey, value) => facts.append(h("dt", { i18n: labelKey }), h("dd", {}, value));
  fact("forwarding.home", `${divisionName(forwarding.homeDivision) || ""} (${forwarding.homeDivision})`);
  fact("forwarding.peer", forwarding.peer || "—");
  fact("forwarding.state", h("span", { i18n: `forwarding.state.${forwarding.state || "awaiting_home"}` }));
  fact("forwarding.remote_receipt", h("span", { class: "mono" }, forwarding.remoteReceipt || "—"));
  fact("forwarding.remote_status", forwarding.remoteStatus && forwarding.remoteStatus !== "CASE_STATUS_UNSPECIFIED" ? statusBadge(forwarding.remoteStatus) : "—");
  fact("forwarding.attempts", String(forwarding.attempts ?? 0));
  fact("forwarding.updated", formatTime(forwarding.updateTime));
  return h(
    "section",
    { class: "forwarding", "aria-labelledby": id },
    h("h3", { id, i18n: "forwarding.title" }),
    facts,
    forwarding.remoteTimeline?.length ? timelineSection(forwarding.remoteTimeline, "forwarding.remote_timeline") : null,
  );
}

export function timelineSection(timeline, titleKey) {
  const id = uniqueId("timeline");
  const list = h("ol", { class: "timeline" });
  for (const entry of timeline) {
    const kind = (entry.kind || "").replace("TIMELINE_ENTRY_KIND_", "");
    list.append(
      h(
        "li",
        { "data-kind": kind },
        h("time", { datetime: entry.createTime || "" }, formatTime(entry.createTime)),
        h("span", { class: `kind kind-${kind.toLowerCase()}`, i18n: `timeline.${kind}` }),
        // The acting officer's name shares the department's column of the timeline's grid.
        h(
          "span",
          { class: "department-cell" },
          entry.department ? h("span", { class: "department", i18n: `department.${entry.department}` }) : h("span", { class: "department", i18n: "timeline.window" }),
          entry.actorName ? h("span", { class: "actor" }, " · ", entry.actorName) : null,
        ),
        h("span", { class: "note" }, entry.message?.text || entry.note || ""),
      ),
    );
  }
  return h("section", { class: "timeline-section", "aria-labelledby": id }, h("h3", { id, i18n: titleKey }), list);
}
