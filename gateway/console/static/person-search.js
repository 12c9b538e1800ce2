// Search by person: the identity number presented at the counter, checked as it is typed and
// sent in a POST body (never in the page's address, so neither history nor logs hold it);
// the gateway matches it by keyed hash, audits the search and answers masked. The field is
// emptied once the answer is shown; the pages after the first (the shared keyset pager) ask
// with the number held in this view's memory only, until the next search or another view.
import { call } from "./api.js";
import { text } from "./i18n.js";
import { keysetPager } from "./pager.js";
import { examineIdNumber, normalizeIdNumber } from "./identity.js";
import { clear, h, uniqueId } from "./markup.js";
import { refusalMessage } from "./case-view.js";
import { applicationsTable } from "./work-list.js";

const PAGE_SIZE = 10;

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
  // The pager stays put while a page loads (focus stays on "next"); the rows change below it.
  const said = h("p", { class: "banner info-banner", role: "status", hidden: true });
  const rows = h("div", { class: "search-rows" });
  const pageInfo = h("span", { class: "page-info", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "secondary", i18n: "queue.previous" });
  const next = h("button", { type: "button", class: "secondary", i18n: "queue.next" });
  const pages = h("div", { class: "toolbar search-pages", hidden: true }, h("span", { class: "spacer" }), pageInfo, previous, next);
  const result = h("div", { class: "search-result", "aria-live": "polite" }, said, pages, rows);
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
  // The number the results are for: asked again for each page, never put on the screen.
  let searched = "";
  const pager = keysetPager(previous, next, load);

  async function load() {
    if (!searched) return;
    button.disabled = true;
    const ticket = pager.loading();
    clear(rows).append(h("p", { class: "loading", i18n: "common.loading" }));
    let answer;
    try {
      const body = { idNumber: searched, pageSize: PAGE_SIZE };
      if (pager.token) body.pageToken = pager.token;
      answer = await call("POST", "/v1/applications:search", body);
    } catch (refusal) {
      if (pager.stale(ticket)) return;
      clear(rows).append(h("p", { class: "banner error-banner", role: "alert" }, refusalMessage(refusal)));
      said.hidden = true;
      pages.hidden = true;
      return;
    } finally {
      if (!pager.stale(ticket)) button.disabled = false;
    }
    if (pager.stale(ticket)) return;
    // The number has done its work: it does not stay on a shared window's screen.
    input.value = "";
    error.textContent = "";
    const found = answer.applications ?? [];
    pager.arrived(answer.nextPageToken);
    const onePage = pager.page === 0 && !answer.nextPageToken;
    pages.hidden = onePage;
    text(pageInfo, "queue.page", { page: pager.page + 1, count: found.length });
    if (!found.length && pager.page === 0) text(said, "search.none");
    else if (onePage) text(said, "search.found", { count: found.length });
    else text(said, "search.found_pages");
    said.hidden = false;
    clear(rows);
    if (found.length) rows.append(applicationsTable(found, context));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { problem, params } = examineIdNumber(input.value);
    if (problem) {
      clear(rows);
      said.hidden = true;
      pages.hidden = true;
      searched = "";
      text(error, problem, params);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    searched = normalizeIdNumber(input.value);
    pager.restart();
  });
}
