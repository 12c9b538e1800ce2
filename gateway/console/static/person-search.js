// Search by person: the identity number presented at the counter, checked as it is typed and
// sent in a POST body (never in the page's address, so neither history nor logs hold it);
// the gateway matches it by keyed hash, audits the search and answers masked. The field is
// emptied once the answer is shown.
import { call } from "./api.js";
import { text } from "./i18n.js";
import { examineIdNumber, normalizeIdNumber } from "./identity.js";
import { clear, h, uniqueId } from "./markup.js";
import { refusalMessage } from "./case-view.js";
import { applicationsTable } from "./work-list.js";

export function renderSearch(root, context) {
  const id = uniqueId("id-number");
  const input = h("input", {
    id,
    name: "idNumber",
    class: "mono",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: "22",
    inputmode: "text",
    "aria-describedby": `${id}-hint ${id}-error`,
  });
  const error = h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" });
  const result = h("div", { class: "search-result", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary", i18n: "search.submit" });
  const form = h(
    "form",
    { class: "lookup-form", novalidate: true, role: "search" },
    h("label", { for: id, i18n: "search.id_number" }),
    h("div", { class: "inline" }, input, button),
    h("p", { class: "hint", id: `${id}-hint`, i18n: "search.hint" }),
    error,
  );
  clear(root).append(h("div", { class: "view view-search" }, h("h1", { i18n: "search.title", tabindex: "-1" }), form, result));
  input.focus();

  input.addEventListener("input", () => {
    error.textContent = "";
    input.removeAttribute("aria-invalid");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { problem, params } = examineIdNumber(input.value);
    if (problem) {
      clear(result);
      text(error, problem, params);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    button.disabled = true;
    clear(result).append(h("p", { class: "loading", i18n: "common.loading" }));
    let answer;
    try {
      answer = await call("POST", "/v1/applications:search", { idNumber: normalizeIdNumber(input.value) });
    } catch (refusal) {
      clear(result).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(refusal)));
      return;
    } finally {
      button.disabled = false;
    }
    // The number has done its work: it does not stay on a shared window's screen.
    input.value = "";
    const found = answer.applications ?? [];
    error.textContent = "";
    clear(result).append(
      h(
        "div",
        {},
        h("p", { class: "banner info-banner", role: "status", i18n: found.length ? ["search.found", { count: found.length }] : "search.none" }),
        found.length ? applicationsTable(found, context) : null,
        answer.nextPageToken ? h("p", { class: "hint", i18n: "search.more" }) : null,
      ),
    );
  });
}
