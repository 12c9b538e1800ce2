// Keeps the form being filled across a sign-in: when the session ends mid-form, what was typed
// waits in this tab's sessionStorage while the clerk signs in again at the provider, and is put
// back once the same view is drawn. It holds an applicant's details, so it lives only in this
// tab, for as long as the sign-in takes, and is removed as soon as it is read.

const KEY = "onedoor.console.kept_form";

function controls(form) {
  return [...form.querySelectorAll("input[name], select[name], textarea[name]")];
}

function isBox(control) {
  return control.type === "checkbox" || control.type === "radio";
}

// Check boxes of one list share a name (the materials): each is told apart by its value.
function keyOf(control) {
  return isBox(control) ? `${control.name}=${control.value}` : control.name;
}

// The form on the page, if any, with its values by field path; true when one was kept.
export function keepForm(root, hash) {
  const form = root.querySelector("form[data-matter]");
  if (!form) return false;
  const values = {};
  for (const control of controls(form)) {
    if (control.readOnly || control.disabled) continue;
    values[keyOf(control)] = isBox(control) ? control.checked : control.value;
  }
  sessionStorage.setItem(KEY, JSON.stringify({ hash, matter: form.dataset.matter, values }));
  return true;
}

export function keptMatter(hash) {
  const kept = JSON.parse(sessionStorage.getItem(KEY) || "null");
  return kept && kept.hash === hash ? kept.matter : null;
}

function householdRows(values) {
  const indices = Object.keys(values)
    .map((name) => /^household_members\[(\d+)\]/.exec(name)?.[1])
    .filter((index) => index !== undefined)
    .map(Number);
  return indices.length ? Math.max(...indices) + 1 : 0;
}

function put(control, value) {
  if (isBox(control)) {
    if (control.checked === Boolean(value)) return;
    control.checked = Boolean(value);
  } else {
    if (control.value === value) return;
    control.value = value;
  }
  // The form's own listeners see a typed value: checks, descriptions, the household rows.
  control.dispatchEvent(new Event("input", { bubbles: true }));
  control.dispatchEvent(new Event("change", { bubbles: true }));
}

// Puts a kept form back into the view just drawn for ``hash``; true when it did.
export function restoreForm(root, hash) {
  const kept = JSON.parse(sessionStorage.getItem(KEY) || "null");
  if (!kept || kept.hash !== hash) return false;
  sessionStorage.removeItem(KEY);
  const form = root.querySelector(`form[data-matter="${CSS.escape(kept.matter)}"]`);
  if (!form) return false;
  // Rows the clerk had added are added again before their fields are filled.
  const addMember = form.querySelector("[data-i18n='household.add']");
  for (let rows = form.querySelectorAll(".household-rows fieldset").length; addMember && rows < householdRows(kept.values); rows++) {
    addMember.click();
  }
  // Filling one field can draw others (a choice that asks for more): fill until none is left.
  const pending = new Map(Object.entries(kept.values));
  for (let pass = 0; pass < 4 && pending.size; pass++) {
    for (const control of controls(form)) {
      const key = keyOf(control);
      if (!pending.has(key) || control.readOnly) continue;
      put(control, pending.get(key));
      pending.delete(key);
    }
  }
  return true;
}
