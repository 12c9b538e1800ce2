// Dates typed at the window, in the console's language rather than the browser's: a date
// input shows its placeholder and reads its digits in the browser's locale (mm/dd/yyyy in an
// English Chromium on a Chinese screen), so the console takes dates as text, year first as
// the bureau writes them, hinted in its own language (年-月-日 / YYYY-MM-DD) and checked here.
import { attribute } from "./i18n.js";
import { h } from "./markup.js";

// 2026-12-01, 2026-1-5, 2026/1/5, 2026.1.5, 2026年1月5日 and 20261205 all name a day.
const SEPARATED = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;

/** {date: "YYYY-MM-DD" or "", problem: dictionary key or null} for what was typed. */
export function readDate(raw) {
  const value = (raw ?? "").trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  if (!value) return { date: "", problem: null };
  const found = SEPARATED.exec(value) ?? COMPACT.exec(value);
  if (!found) return { date: "", problem: "check.date.format" };
  const [year, month, day] = found.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return { date: "", problem: "check.date.no_such_day" };
  }
  return { date: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`, problem: null };
}

/** The attributes of a text input that takes a date, for h("input", ...). */
export function dateAttributes() {
  return { type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", maxlength: "11", class: "date-input mono", "data-kind": "date" };
}

/** A text input for a date, its placeholder in the console's language. */
export function dateInput(attributes = {}) {
  return withDatePlaceholder(h("input", { ...dateAttributes(), ...attributes }));
}

export function withDatePlaceholder(input) {
  return attribute(input, "placeholder", "date.placeholder");
}
