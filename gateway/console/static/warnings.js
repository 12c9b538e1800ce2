// A department's warnings queue: what other agencies' records raised (illness-poverty risk, a
// beneficiary's death, a disability grade change, a review due), by state, a page at a time.
// An officer contacts the household, opens a proactive case (then follows it in the look-up),
// or dismisses the warning with a reason. The reasons come rendered in the console's language.
import { call } from "./api.js";
import { formatTime, text } from "./i18n.js";
import { clear, h, uniqueId } from "./markup.js";
import { keysetPager } from "./pager.js";
import { refusalMessage } from "./case-view.js";
import { STRINGS } from "./strings.js";

const PAGE_SIZE = 20;
const STATES = ["new", "contacted", "case_opened", "dismissed"];
const KINDS = ["ILLNESS_POVERTY_RISK", "AFTER_DEATH_SETTLEMENT", "DISABILITY_SUBSIDY_REVIEW", "IDENTIFICATION_REVIEW", "AGE_ALLOWANCE"];

const WARNING_STRINGS = {
  zh: {
    "nav.warnings": "预警",
    "warnings.title": "数据预警",
    "warnings.hint": "其他部门推送的数据经规则研判后形成的预警，最新的在前。可登记已联系、主动立案或说明理由后排除。",
    "warnings.state.new": "新预警",
    "warnings.state.contacted": "已联系",
    "warnings.state.case_opened": "已立案",
    "warnings.state.dismissed": "已排除",
    "warnings.kind": "类别",
    "warnings.household": "家庭档案",
    "warnings.raised": "预警时间",
    "warnings.reason": "预警原因",
    "warnings.actions": "处置",
    "warnings.empty": "没有此类预警。",
    "warnings.contact": "已联系",
    "warnings.open_case": "主动立案",
    "warnings.dismiss": "排除",
    "warnings.dismiss_reason": "排除理由",
    "warnings.confirm_dismiss": "确认排除",
    "warnings.error.reason": "请填写排除理由。",
    "warnings.done.contact": "已登记联系。",
    "warnings.done.open_case": "已主动立案：{receipt}",
    "warnings.done.dismiss": "预警已排除。",
    "warnings.case": "案件",
    "warnings.kind.ILLNESS_POVERTY_RISK": "因病致贫风险",
    "warnings.kind.AFTER_DEATH_SETTLEMENT": "身后一件事",
    "warnings.kind.DISABILITY_SUBSIDY_REVIEW": "残疾人补贴复核",
    "warnings.kind.IDENTIFICATION_REVIEW": "动态监测核查",
    "warnings.kind.AGE_ALLOWANCE": "高龄津贴免申即享",
  },
  en: {
    "nav.warnings": "Warnings",
    "warnings.title": "Warnings from agencies' data",
    "warnings.hint": "What the rules made of records other agencies pushed, newest first. Record a contact, open a proactive case, or dismiss with a reason.",
    "warnings.state.new": "New",
    "warnings.state.contacted": "Contacted",
    "warnings.state.case_opened": "Case opened",
    "warnings.state.dismissed": "Dismissed",
    "warnings.kind": "Kind",
    "warnings.household": "Household file",
    "warnings.raised": "Raised",
    "warnings.reason": "Reason",
    "warnings.actions": "Actions",
    "warnings.empty": "No such warnings.",
    "warnings.contact": "Contacted",
    "warnings.open_case": "Open a case",
    "warnings.dismiss": "Dismiss",
    "warnings.dismiss_reason": "Why it is dismissed",
    "warnings.confirm_dismiss": "Dismiss it",
    "warnings.error.reason": "Give a reason.",
    "warnings.done.contact": "Contact recorded.",
    "warnings.done.open_case": "Proactive case opened: {receipt}",
    "warnings.done.dismiss": "Warning dismissed.",
    "warnings.case": "Case",
    "warnings.kind.ILLNESS_POVERTY_RISK": "Illness-poverty risk",
    "warnings.kind.AFTER_DEATH_SETTLEMENT": "After-death settlement",
    "warnings.kind.DISABILITY_SUBSIDY_REVIEW": "Disability subsidy review",
    "warnings.kind.IDENTIFICATION_REVIEW": "Monitoring review",
    "warnings.kind.AGE_ALLOWANCE": "Age allowance without applying",
  },
};

for (const language of Object.keys(WARNING_STRINGS)) Object.assign(STRINGS[language], WARNING_STRINGS[language]);

export function renderWarnings(root, context, state) {
  const current = STATES.includes(state) ? state : "new";
  const department = context.claims.department;
  const tabs = h("div", { class: "tabs", role: "tablist" });
  for (const name of STATES) {
    tabs.append(
      h("a", {
        role: "tab",
        href: `#/warnings/${name}`,
        class: "tab",
        "data-state": name,
        "aria-selected": name === current ? "true" : "false",
        i18n: `warnings.state.${name}`,
      }),
    );
  }
  const banner = h("p", { class: "banner info-banner", role: "status", hidden: true });
  const tableHost = h("div", { class: "warnings-table" });
  const pageInfo = h("span", { class: "page-info", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "secondary", i18n: "queue.previous" });
  const next = h("button", { type: "button", class: "secondary", i18n: "queue.next" });
  clear(root).append(
    h(
      "div",
      { class: "view view-warnings", "data-state": current },
      h("h1", { tabindex: "-1", i18n: "warnings.title" }),
      h("p", { class: "hint", i18n: "warnings.hint" }),
      tabs,
      banner,
      h("div", { class: "toolbar" }, h("span", { class: "spacer" }), pageInfo, previous, next),
      tableHost,
    ),
  );
  const base = `/v1/departments/${encodeURIComponent(department)}/warnings`;
  const pager = keysetPager(previous, next, load);

  function said(key, params) {
    banner.hidden = false;
    text(banner, key, params);
  }

  async function act(warning, action, body) {
    try {
      const answer = await call("POST", `${base}/${encodeURIComponent(warning.warningId)}:${action}`, body ?? {});
      if (action === "openCase") said("warnings.done.open_case", { receipt: answer.warning?.receipt ?? "" });
      else said(`warnings.done.${action}`);
      load();
    } catch (error) {
      banner.hidden = false;
      clear(banner).append(refusalMessage(error));
    }
  }

  function actions(warning) {
    const cell = h("td", { class: "actions" });
    const open = warning.state === "WARNING_STATE_NEW" || warning.state === "WARNING_STATE_CONTACTED";
    if (warning.receipt) cell.append(h("a", { class: "mono", href: `#/lookup/${warning.receipt}`, "data-action": "case" }, warning.receipt));
    if (!open) return cell;
    if (warning.state === "WARNING_STATE_NEW") {
      cell.append(h("button", { type: "button", class: "secondary small", "data-action": "contact", i18n: "warnings.contact", on: { click: () => act(warning, "contact") } }));
    }
    if (warning.sourceReceipt) {
      cell.append(h("button", { type: "button", class: "small", "data-action": "openCase", i18n: "warnings.open_case", on: { click: () => act(warning, "openCase") } }));
    }
    const reasonId = uniqueId("dismiss-reason");
    const reason = h("input", { id: reasonId, name: "reason", type: "text", maxlength: "500" });
    const error = h("span", { class: "field-error", role: "alert" });
    const form = h(
      "form",
      { class: "dismiss", hidden: true, novalidate: true },
      h("label", { for: reasonId, i18n: "warnings.dismiss_reason" }),
      reason,
      h("button", { type: "submit", class: "danger small", i18n: "warnings.confirm_dismiss" }),
      error,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!reason.value.trim()) {
        text(error, "warnings.error.reason");
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
      act(warning, "dismiss", { reason: reason.value.trim() });
    });
    const dismiss = h("button", {
      type: "button",
      class: "secondary small",
      "data-action": "dismiss",
      i18n: "warnings.dismiss",
      on: {
        click: () => {
          form.hidden = false;
          reason.focus();
        },
      },
    });
    cell.append(dismiss, form);
    return cell;
  }

  function table(warnings) {
    const body = h("tbody");
    for (const w of warnings) {
      const kind = w.kind?.replace("WARNING_KIND_", "");
      body.append(
        h(
          "tr",
          { "data-warning": w.warningId, "data-household": w.householdFile || "" },
          h("td", {}, KINDS.includes(kind) ? h("span", { i18n: `warnings.kind.${kind}` }) : kind),
          h("td", {}, w.householdFile ? h("code", {}, w.householdFile) : "—"),
          h("td", { class: "when" }, formatTime(w.createTime)),
          h("td", { class: "reason" }, w.reason?.text ?? ""),
          actions(w),
        ),
      );
    }
    const head = ["warnings.kind", "warnings.household", "warnings.raised", "warnings.reason", "warnings.actions"];
    return h(
      "table",
      { class: "data warnings" },
      h("thead", {}, h("tr", {}, ...head.map((key) => h("th", { scope: "col", i18n: key })))),
      body,
    );
  }

  async function load() {
    clear(tableHost).append(h("p", { class: "loading", i18n: "common.loading" }));
    pager.loading();
    const query = new URLSearchParams({ state: current, pageSize: String(PAGE_SIZE) });
    if (pager.token) query.set("pageToken", pager.token);
    let answer;
    try {
      answer = await call("GET", `${base}?${query}`);
    } catch (error) {
      clear(tableHost).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(error)));
      return;
    }
    const warnings = answer.warnings ?? [];
    pager.arrived(answer.nextPageToken);
    text(pageInfo, "queue.page", { page: pager.page + 1, count: warnings.length });
    clear(tableHost).append(warnings.length ? table(warnings) : h("p", { class: "empty", i18n: "warnings.empty" }));
  }

  root.querySelector("h1").focus();
  load();
}
