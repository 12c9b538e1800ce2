// Supplying materials a department asked for: the matter's materials from the catalog, those
// the request names marked; once recorded the deadline clock runs again, and the screen says
// until when.
import { call } from "./api.js";
import { formatTime, text } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { refusalMessage, statusBadge } from "./case-view.js";

export async function renderSupply(root, context, receipt) {
  clear(root).append(h("p", { class: "loading", i18n: "common.loading" }));
  let application;
  try {
    application = (await call("GET", `/v1/applications/${encodeURIComponent(receipt)}`)).application;
  } catch (error) {
    clear(root).append(h("div", { class: "view" }, h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error))));
    return;
  }
  const matter = context.catalog.find((m) => m.code === application.matterCode);
  const materials = matter?.requiredMaterials ?? [];
  // The officer's request names what is missing (by code or title) in its note.
  const request = [...(application.timeline ?? [])].reverse().find((e) => e.kind === "TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED");
  const asked = request?.note ?? "";
  const isRequested = (m) => Boolean(asked) && (asked.includes(m.code) || asked.includes(m.titleZh));
  const error = h("p", { class: "error", "aria-live": "assertive" });
  const outcome = h("div", { class: "supply-outcome", "aria-live": "polite" });
  const list = h("fieldset", { class: "supply-materials" }, h("legend", { i18n: "supply.which" }));
  for (const m of materials) {
    const id = uniqueId("material");
    const requested = isRequested(m);
    list.append(
      h(
        "div",
        { class: `checkbox${requested ? " requested" : ""}`, "data-material": m.code },
        h("input", { type: "checkbox", id, name: "material", value: m.code, checked: requested }),
        h("label", { for: id }, h("span", { zhen: [m.titleZh, m.titleEn] }), " ", h("code", {}, m.code)),
        requested ? h("span", { class: "badge warn", i18n: "supply.requested" }) : null,
      ),
    );
  }
  const button = h("button", { type: "submit", class: "primary", i18n: "supply.submit" });
  const form = h("form", { class: "supply-form", novalidate: true }, list, error, h("div", { class: "page-actions" }, button));
  const facts = h("dl", { class: "facts" });
  const fact = (key, value) => facts.append(h("dt", { i18n: key }), h("dd", {}, value));
  fact("receipt.matter", matter ? h("span", { zhen: [matter.titleZh, matter.titleEn] }) : application.matterCode);
  fact("lookup.applicant", `${application.applicantName || "—"} ${application.applicantIdNumber || ""}`);
  const statusCell = h("span", {}, statusBadge(application.status));
  fact("receipt.status", statusCell);
  fact("supply.asked", asked ? h("span", { class: "note" }, h("span", { i18n: `department.${request.department}` }), "：", asked) : "—");
  const deadlineCell = h("span", {}, application.status === "CASE_STATUS_AWAITING_MATERIALS" ? h("span", { i18n: "supply.paused" }) : formatTime(application.decisionDeadline));
  fact("receipt.deadline", deadlineCell);
  clear(root).append(
    h(
      "div",
      { class: "view view-supply", "data-receipt": application.receipt },
      h("h1", { tabindex: "-1" }, h("span", { i18n: "supply.title" }), " ", h("span", { class: "mono" }, application.receipt)),
      facts,
      application.status === "CASE_STATUS_AWAITING_MATERIALS" ? form : h("p", { class: "banner info-banner", i18n: "supply.not_waiting" }),
      outcome,
    ),
  );
  root.querySelector("h1").focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll("input[name=material]:checked")].map((input) => input.value);
    if (!chosen.length) {
      text(error, "supply.none_chosen");
      return;
    }
    error.textContent = "";
    button.disabled = true;
    let answer;
    try {
      answer = await call("POST", `/v1/applications/${encodeURIComponent(application.receipt)}:supplyMaterials`, { materials: chosen });
    } catch (refusal) {
      clear(error).append(refusalMessage(refusal));
      button.disabled = false;
      return;
    }
    const after = answer.application;
    form.remove();
    clear(statusCell).append(statusBadge(after.status));
    if (after.status !== "CASE_STATUS_AWAITING_MATERIALS") clear(deadlineCell).append(formatTime(after.decisionDeadline));
    clear(outcome).append(
      h(
        "p",
        { class: "banner ok-banner", role: "status", tabindex: "-1" },
        h("span", { i18n: ["supply.done", { count: chosen.length }] }),
        h("span", { i18n: "common.sentence_gap" }),
        after.status === "CASE_STATUS_AWAITING_MATERIALS"
          ? h("span", { i18n: "supply.still_waiting" })
          : h("span", { class: "resumed", i18n: ["supply.resumed", { deadline: formatTime(after.decisionDeadline) }] }),
      ),
      h("div", { class: "page-actions" }, h("a", { class: "button secondary", href: `#/lookup/${after.receipt}`, i18n: "receipt.follow" }), h("a", { class: "button secondary", href: "#/worklist/awaiting_materials", i18n: "supply.back" })),
    );
    outcome.querySelector("p").focus();
  });
}
