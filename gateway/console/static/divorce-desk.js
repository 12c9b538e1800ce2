// A divorce at the window after filing: each party, in person with the identity card,
// confirms it once the cooling-off period is over, or withdraws it within. The card's number
// goes in the request body only and is emptied once answered.
import { call } from "./api.js";
import { text } from "./i18n.js";
import { examineIdNumber, normalizeIdNumber, RECEIPT } from "./identity.js";
import { clear, h, uniqueId } from "./markup.js";
import { refusalMessage } from "./case-view.js";

export function renderDivorce(root, context, receipt) {
  const receiptId = uniqueId("receipt");
  const receiptInput = h("input", { id: receiptId, name: "receipt", class: "mono receipt-input", autocomplete: "off", spellcheck: "false", maxlength: "18" });
  receiptInput.value = receipt ?? "";
  const partyName = uniqueId("party");
  const party = h(
    "fieldset",
    { class: "choices" },
    h("legend", { i18n: "divorce.party" }),
    ...["applicant", "other"].map((who, i) => {
      const id = uniqueId(`party-${who}`);
      return h("div", { class: "choice" }, h("input", { type: "radio", id, name: partyName, value: who, checked: i === 0 }), h("label", { for: id, i18n: `divorce.party.${who}` }));
    }),
  );
  const numberId = uniqueId("id-number");
  const number = h("input", { id: numberId, name: "idNumber", class: "mono", autocomplete: "off", spellcheck: "false", maxlength: "22" });
  const error = h("p", { class: "error", "aria-live": "assertive" });
  const outcome = h("div", { class: "divorce-outcome", "aria-live": "polite" });
  const confirm = h("button", { type: "submit", class: "primary", value: "confirm", "data-step": "confirm", i18n: "divorce.confirm" });
  const withdraw = h("button", { type: "submit", class: "secondary danger", value: "withdraw", "data-step": "withdraw", i18n: "divorce.withdraw" });
  const form = h(
    "form",
    { class: "divorce-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: receiptId, i18n: "lookup.receipt" }), receiptInput),
    party,
    h("div", { class: "field" }, h("label", { for: numberId, i18n: "divorce.id_number" }), number, h("p", { class: "hint", i18n: "divorce.hint" })),
    error,
    h("div", { class: "page-actions" }, confirm, withdraw),
  );
  clear(root).append(h("div", { class: "view view-divorce" }, h("h1", { tabindex: "-1", i18n: "divorce.title" }), form, outcome));
  (receipt ? number : receiptInput).focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const step = event.submitter?.value === "withdraw" ? "withdraw" : "confirm";
    const wanted = receiptInput.value.trim().toUpperCase();
    if (!RECEIPT.test(wanted)) {
      text(error, "lookup.bad_receipt");
      receiptInput.focus();
      return;
    }
    const { problem, params } = examineIdNumber(number.value);
    if (problem) {
      text(error, problem, params);
      number.focus();
      return;
    }
    error.textContent = "";
    clear(outcome);
    for (const button of [confirm, withdraw]) button.disabled = true;
    let answer;
    try {
      const method = step === "confirm" ? "confirmDivorce" : "withdrawDivorce";
      answer = await call("POST", `/v1/applications/${encodeURIComponent(wanted)}:${method}`, { idNumber: normalizeIdNumber(number.value) });
    } catch (refusal) {
      clear(error).append(refusalMessage(refusal));
      return;
    } finally {
      for (const button of [confirm, withdraw]) button.disabled = false;
    }
    number.value = "";
    const state = answer.divorceState || "DIVORCE_STATE_UNSPECIFIED";
    clear(outcome).append(
      h(
        "p",
        { class: "banner ok-banner", role: "status", "data-state": state, tabindex: "-1" },
        h("span", { i18n: `divorce.done.${step}` }),
        h("span", { i18n: "common.sentence_gap" }),
        h("span", { class: "divorce-state", i18n: `divorce.state.${state}` }),
      ),
      h("div", { class: "page-actions" }, h("a", { class: "button secondary", href: `#/lookup/${wanted}`, i18n: "receipt.follow" })),
    );
    outcome.querySelector("p").focus();
  });
}
