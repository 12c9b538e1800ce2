// A form whose fields know their place in the application (the server's field path, such as
// "applicant.id_number" or "household_members[0].id_number"), check themselves as the clerk
// types, and show the server's field violations beside themselves when a submission is
// refused.
import { attribute, known, t, text } from "./i18n.js";
import { h, uniqueId } from "./markup.js";

export class FieldSet {
  constructor() {
    this.records = new Map();
    // Paths the server may name that have no control of their own.
    this.aliases = new Map();
  }

  register(record) {
    this.records.set(record.path, record);
    return record;
  }

  forget(prefix) {
    for (const path of [...this.records.keys()]) {
      if (path.startsWith(prefix)) this.records.delete(path);
    }
  }

  alias(path, target) {
    this.aliases.set(path, target);
  }

  // The field a server path belongs to: itself, an alias, or its nearest registered parent
  // ("details.economic_check_consent.member_id_numbers[1]" → the consent checkbox).
  recordFor(path) {
    let current = path;
    while (current) {
      if (this.records.has(current)) return this.records.get(current);
      if (this.aliases.has(current)) return this.records.get(this.aliases.get(current)) ?? null;
      const cut = Math.max(current.lastIndexOf("."), current.lastIndexOf("["));
      if (cut <= 0) return null;
      current = current.slice(0, cut);
    }
    return null;
  }

  // Every field checked and shown; the records still wrong, in page order.
  checkAll() {
    const wrong = [];
    for (const record of this.records.values()) {
      record.touched = true;
      record.serverProblem = null;
      if (refresh(record)) wrong.push(record);
    }
    return wrong;
  }

  clearServerProblems() {
    for (const record of this.records.values()) {
      if (record.serverProblem) {
        record.serverProblem = null;
        refresh(record);
      }
    }
  }

  // Puts each violation beside its field; returns those that have none, for the summary.
  showServerProblems(violations) {
    const placed = [];
    const unplaced = [];
    for (const violation of violations) {
      const record = this.recordFor(violation.field || "");
      if (!record) {
        unplaced.push(violation);
        continue;
      }
      // Several violations may land on one field (materials[0], materials[1]): keep them all.
      const description = record.serverProblem ? `${record.serverProblem.server}; ` : "";
      record.serverProblem = { server: description + (violation.description || "") };
      record.serverProblem.translated = translatedDescription(violation.description || "");
      refresh(record);
      if (!placed.includes(record)) placed.push(record);
    }
    return { placed, unplaced };
  }
}

// The server describes problems in English; the ones the dictionary knows read in the
// console's language, the rest as the server put them.
export function translatedDescription(description) {
  const key = `server.${description}`;
  if (known(key)) return t(key);
  const age = /^the applicant is (\d+); the matter is for people aged (\d+) and over$/.exec(description);
  if (age) return t("check.age.minimum", { age: age[1], minimum: age[2] });
  const missing = /^missing required material (\w+)/.exec(description);
  if (missing) return t("server.missing_material", { code: missing[1] });
  return description;
}

// Re-checks a field and shows what is wrong with it (the server's word first, since the
// server has seen what the browser cannot: the registry, the departments' records).
export function refresh(record) {
  const local = record.touched && record.check ? record.check() : null;
  const problem = record.serverProblem || local;
  if (record.describe) {
    const description = record.describe();
    if (description) text(record.hint, description.key, description.params);
    else {
      delete record.hint.dataset.i18n;
      record.hint.textContent = "";
    }
  }
  if (!problem) {
    delete record.error.dataset.i18n;
    record.error.textContent = "";
    record.control?.removeAttribute("aria-invalid");
    record.wrapper.classList.remove("invalid");
    return false;
  }
  if (problem.server !== undefined) {
    delete record.error.dataset.i18n;
    record.error.textContent = problem.translated ?? problem.server;
  } else {
    text(record.error, problem.key, problem.params);
  }
  record.control?.setAttribute("aria-invalid", "true");
  record.wrapper.classList.add("invalid");
  return true;
}

function live(record, { checkWhile }) {
  const control = record.control;
  control.addEventListener("input", () => {
    record.serverProblem = null;
    if (!record.touched && checkWhile && checkWhile(control.value)) record.touched = true;
    refresh(record);
    record.onChange?.();
  });
  control.addEventListener("change", () => {
    record.serverProblem = null;
    record.touched = true;
    refresh(record);
    record.onChange?.();
  });
  control.addEventListener("blur", () => {
    if (record.normalize) control.value = record.normalize(control.value);
    record.touched = control.value !== "" || record.touched;
    refresh(record);
  });
}

// Registers a control with its label, hint and error line, wrapped as one field of the form.
function labelledField(fields, { id, path, label, width, control, ...behaviour }) {
  const record = fields.register({
    path,
    labelKey: label,
    control,
    ...behaviour,
    touched: false,
    serverProblem: null,
    hint: h("p", { class: "hint", id: `${id}-hint` }),
    error: h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" }),
  });
  record.wrapper = h(
    "div",
    { class: `field ${width}`.trim(), "data-path": path },
    h("label", { for: id, i18n: label }),
    control,
    record.hint,
    record.error,
  );
  return record;
}

// A labelled text-like input. ``checkWhile(value)`` says when to check before the field is
// left (an identity number is checked as soon as its 18th character is typed).
export function inputField(fields, options) {
  const { path, label, check, describe, normalize, checkWhile, width = "", value = "" } = options;
  const id = uniqueId("field");
  const control = h("input", {
    id,
    name: path,
    type: options.type || "text",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${id}-hint ${id}-error`,
    ...(options.attributes || {}),
  });
  control.value = value;
  if (options.placeholder) attribute(control, "placeholder", options.placeholder);
  const record = labelledField(fields, { id, path, label, width, control, check, describe, normalize });
  live(record, { checkWhile });
  if (describe) refresh(record);
  return record;
}

// A labelled select of [value, dictionary key or [zh, en]] choices.
export function selectField(fields, { path, label, choices, check, width = "", value = "" }) {
  const id = uniqueId("field");
  const control = h(
    "select",
    { id, name: path, "aria-describedby": `${id}-hint ${id}-error` },
    h("option", { value: "", i18n: "form.choose" }),
    choices.map(([choice, caption]) =>
      h("option", Array.isArray(caption) ? { value: choice, zhen: caption } : { value: choice, i18n: caption }),
    ),
  );
  control.value = value;
  const record = labelledField(fields, { id, path, label, width, control, check });
  live(record, {});
  return record;
}

// A checkbox that stands for a yes/no fact of the application.
export function checkboxField(fields, { path, label, hintKey, checked = false }) {
  const id = uniqueId("field");
  const control = h("input", {
    id,
    name: path,
    type: "checkbox",
    "aria-describedby": `${id}-hint ${id}-error`,
  });
  control.checked = checked;
  const record = fields.register({
    path,
    labelKey: label,
    control,
    touched: false,
    serverProblem: null,
    hint: h("p", { class: "hint", id: `${id}-hint`, i18n: hintKey || null }),
    error: h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" }),
  });
  record.wrapper = h(
    "div",
    { class: "field checkbox", "data-path": path },
    h("span", { class: "check-line" }, control, h("label", { for: id, i18n: label })),
    record.hint,
    record.error,
  );
  live(record, {});
  return record;
}

export const required = (control) => () =>
  control.value.trim() ? null : { key: "check.required" };
