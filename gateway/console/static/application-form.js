// New application: the clerk chooses a matter from the catalog, and the form asks for what
// that matter takes (its `fields`) and checks off its required materials.
import { ApiRefusal, call, newRequestId, Unreachable } from "./api.js";
import { dateAttributes, readDate } from "./dates.js";
import { divisionName, hukouDivisionProblem } from "./divisions.js";
import { checkboxField, FieldSet, inputField, refresh, required, selectField, translatedDescription } from "./form-fields.js";
import { attribute, t, text } from "./i18n.js";
import {
  ageOn,
  creditCodeProblem,
  examineIdNumber,
  formatBirth,
  localToday,
  normalizeIdNumber,
  PHONE,
} from "./identity.js";
import { clear, h, uniqueId } from "./markup.js";

const MAX_NAME = 50;
const MAX_RELATION = 20;
const MAX_MEMBERS = 30;
const MAX_CARE_HOURS = 120;
// A monthly income above ten million yuan is a typing error (gateway/validation.py).
const MAX_MONTHLY_INCOME_YUAN = 10_000_000;
const CARE_SERVICES = ["meals", "cleaning", "bathing", "nursing", "companionship"];
const ORGANISATION_KINDS = [
  "ORGANISATION_KIND_SOCIAL_GROUP",
  "ORGANISATION_KIND_PRIVATE_NON_ENTERPRISE",
  "ORGANISATION_KIND_FOUNDATION",
];
const RELATIONS = ["配偶", "子女", "父母", "兄弟姐妹", "孙子女", "祖父母", "儿媳", "女婿", "其他"];

function nameCheck(control) {
  return () => {
    const value = control.value.trim();
    if (!value) return { key: "check.required" };
    if (value.length > MAX_NAME) return { key: "check.too_long", params: { n: MAX_NAME } };
    return null;
  };
}

function idCheck(control, { minimumAge = 0, others = () => [] } = {}) {
  return () => {
    const found = examineIdNumber(control.value);
    if (found.problem) return { key: found.problem, params: found.params };
    const age = ageOn(found.born);
    if (minimumAge && age < minimumAge) return { key: "check.age.minimum", params: { age, minimum: minimumAge } };
    if (others().includes(normalizeIdNumber(control.value))) return { key: "check.id.duplicate" };
    return null;
  };
}

// An identity-number input: checked as soon as its 18th character is typed (before the field
// is left), and described (birth date, age, sex) once it is valid.
function idNumberField(fields, { path, label, value = "", attributes = { maxlength: "22" }, checks = {} }) {
  const field = inputField(fields, {
    path,
    label,
    width: "wide",
    value,
    attributes: { ...attributes, class: "mono" },
    normalize: normalizeIdNumber,
    checkWhile: (typed) => normalizeIdNumber(typed).length >= 18,
  });
  field.check = idCheck(field.control, checks);
  field.describe = idDescription(field.control);
  return field;
}

function idDescription(control) {
  return () => {
    const found = examineIdNumber(control.value);
    if (found.problem) return null;
    return {
      key: "hint.person",
      params: { born: formatBirth(found.born), age: ageOn(found.born), sex: t(`sex.${found.sex}`) },
    };
  };
}

// Money is typed in yuan with at most two decimals and sent in fen, as the API counts it.
function yuanProblem(value, { positive = false, maximum = Infinity, optional = false } = {}) {
  const trimmed = value.trim();
  if (!trimmed) return optional ? null : { key: "check.required" };
  if (!/^\d+(\.\d{1,2})?$/.test(trimmed)) return { key: "check.yuan.format" };
  const yuan = Number(trimmed);
  if (positive && yuan <= 0) return { key: "check.yuan.positive" };
  if (yuan > maximum) return { key: "check.yuan.too_large" };
  return null;
}

function fen(value) {
  const [whole, fraction = ""] = value.trim().split(".");
  return Number(whole || "0") * 100 + Number((fraction + "00").slice(0, 2));
}

function wholeNumberProblem(value, minimum, maximum) {
  if (!value.trim()) return { key: "check.required" };
  if (!/^\d+$/.test(value.trim())) return { key: "check.whole_number" };
  const number = Number(value);
  if (number < minimum || number > maximum) return { key: "check.range", params: { minimum, maximum } };
  return null;
}

function section(titleKey, ...children) {
  const id = uniqueId("section");
  return h(
    "section",
    { class: "form-section", "aria-labelledby": id },
    h("h2", { id, i18n: titleKey }),
    ...children,
  );
}

function grid(...records) {
  return h("div", { class: "field-grid" }, records.map((record) => record.wrapper));
}

// The departments that lead a matter, in the catalog's order: the catalog the API serves
// (GET /v1/matters) is the console's only list of departments.
function leadingDepartments(matters) {
  return [...new Set(matters.map((m) => m.departments[0]).filter(Boolean))];
}

export function renderNewApplication(root, context) {
  const matters = context.catalog;
  const departments = leadingDepartments(matters);
  const chooserId = uniqueId("matter");
  const chooser = h(
    "select",
    { id: chooserId, name: "matter_code", "aria-describedby": `${chooserId}-about` },
    h("option", { value: "", i18n: "form.choose_matter" }),
  );
  for (const department of departments) {
    const group = h("optgroup");
    attribute(group, "label", `department.${department}`);
    for (const matter of matters.filter((m) => m.departments[0] === department)) {
      group.append(h("option", { value: matter.code, zhen: [matter.titleZh, matter.titleEn] }));
    }
    chooser.append(group);
  }
  const about = h("p", { class: "hint matter-about", id: `${chooserId}-about` });
  const formHost = h("div");
  // With no matter chosen yet, every matter is one click away, grouped by department.
  const picker = h("div", { class: "matter-picker" });
  for (const department of departments) {
    const list = h("ul");
    for (const matter of matters.filter((m) => m.departments[0] === department)) {
      list.append(
        h(
          "li",
          {},
          h("button", {
            type: "button",
            class: "matter-pick",
            "data-matter": matter.code,
            zhen: [matter.titleZh, matter.titleEn],
            on: {
              click: () => {
                chooser.value = matter.code;
                chooser.dispatchEvent(new Event("change"));
                formHost.querySelector("input:not([readonly])")?.focus();
              },
            },
          }),
        ),
      );
    }
    picker.append(h("section", { class: "matter-group" }, h("h2", { i18n: `department.${department}` }), list));
  }
  const page = h(
    "div",
    { class: "view view-new" },
    h("h1", { i18n: "new.title", tabindex: "-1" }),
    h(
      "div",
      { class: "matter-chooser" },
      h("label", { for: chooserId, i18n: "form.matter" }),
      chooser,
      about,
    ),
    picker,
    formHost,
  );
  clear(root).append(page);

  let current = null;
  chooser.addEventListener("change", () => {
    const matter = matters.find((m) => m.code === chooser.value);
    const carried = current ? current.applicantValues() : null;
    clear(formHost);
    clear(about);
    current = null;
    picker.hidden = Boolean(matter);
    if (!matter) return;
    about.append(...matterFacts(matter));
    current = applicationForm(matter, context, carried);
    formHost.append(current.element);
  });
  if (context.preselectMatter) {
    chooser.value = context.preselectMatter;
    chooser.dispatchEvent(new Event("change"));
  }
  page.querySelector("h1").focus();
}

function matterFacts(matter) {
  const departments = h("span", {}, h("span", { i18n: "matter.departments" }));
  matter.departments.forEach((department, i) => {
    departments.append(i ? "、" : "", h("span", { i18n: `department.${department}` }));
  });
  const facts = [departments, h("span", { i18n: ["matter.time_limit", { days: matter.timeLimitDays }] })];
  if (matter.minimumAge) facts.push(h("span", { i18n: ["matter.minimum_age", { age: matter.minimumAge }] }));
  if (matter.crossJurisdiction) facts.push(h("span", { i18n: "matter.cross_jurisdiction" }));
  return facts.flatMap((fact, i) => (i ? [h("span", { class: "separator", "aria-hidden": "true" }, " · "), fact] : [fact]));
}

function applicationForm(matter, context, carried) {
  const fields = new FieldSet();
  const needs = new Set(matter.fields);
  const requestId = newRequestId();

  // --- the applicant ------------------------------------------------------------------------
  const applicantName = inputField(fields, {
    path: "applicant.name",
    label: "field.name",
    value: carried?.name ?? "",
    attributes: { maxlength: String(MAX_NAME) },
  });
  applicantName.check = nameCheck(applicantName.control);
  const applicantId = idNumberField(fields, {
    path: "applicant.id_number",
    label: "field.id_number",
    value: carried?.idNumber ?? "",
    attributes: { maxlength: "22", inputmode: "text" },
    checks: { minimumAge: matter.minimumAge },
  });
  fields.alias("applicant", "applicant.id_number");
  const phone = inputField(fields, {
    path: "applicant.phone",
    label: "field.phone",
    value: carried?.phone ?? "",
    attributes: { inputmode: "tel", maxlength: "13", class: "mono" },
    checkWhile: (value) => value.length >= 11,
  });
  phone.check = () => {
    const value = phone.control.value.trim();
    if (!value) return { key: "check.required" };
    return PHONE.test(value) ? null : { key: "check.phone" };
  };
  const defaultHukou = /^\d{4}(?!00)\d{2}$/.test(context.claims.jurisdiction) ? context.claims.jurisdiction : "";
  const hukou = inputField(fields, {
    path: "applicant.hukou_division",
    label: "field.hukou_division",
    value: carried?.hukou ?? defaultHukou,
    attributes: { inputmode: "numeric", maxlength: "6", class: "mono" },
    checkWhile: (value) => value.length >= 6,
  });
  hukou.check = () => {
    const problem = hukouDivisionProblem(hukou.control.value.trim());
    return problem ? { key: problem } : null;
  };
  hukou.describe = () => {
    const code = hukou.control.value.trim();
    return hukouDivisionProblem(code) ? { key: "hint.hukou" } : { key: "hint.division", params: { name: divisionName(code) } };
  };
  refresh(hukou);

  const sections = [
    section("form.applicant", grid(applicantName, applicantId, phone, hukou)),
  ];

  // --- the household --------------------------------------------------------------------------
  const household = needs.has("household_members") ? householdSection(fields, applicantName, applicantId) : null;
  if (household) sections.push(household.element);

  // --- what the matter asks beyond the applicant ---------------------------------------------
  const details = detailsSection(fields, matter, needs, applicantId);
  if (details.element) sections.push(details.element);

  // --- materials --------------------------------------------------------------------------------
  const materials = materialsSection(fields, matter);
  sections.push(materials.element);

  // --- refusal summary and submission ---------------------------------------------------------
  const summary = h("div", { class: "summary", role: "alert", tabindex: "-1", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", i18n: "form.submit" });
  const resetButton = h("button", { type: "button", class: "secondary", i18n: "form.reset" });
  const requestNote = h("p", { class: "hint request-id" }, h("span", { i18n: "form.request_id" }), " ", h("code", {}, requestId));
  const form = h(
    "form",
    { class: "application-form", novalidate: true, autocomplete: "off", "data-matter": matter.code },
    summary,
    ...sections,
    h("div", { class: "form-actions" }, submit, resetButton, requestNote),
  );

  resetButton.addEventListener("click", () => {
    if (!window.confirm(t("form.reset_confirm"))) return;
    context.navigate("#/new", { matter: matter.code, fresh: true });
  });

  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    fields.clearServerProblems();
    const wrong = fields.checkAll();
    if (wrong.length) {
      showSummary(summary, "form.fix_local", wrong.map((record) => summaryEntry(record)));
      wrong[0].control?.focus();
      return;
    }
    summary.hidden = true;
    sending = true;
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    text(submit, "form.submitting");
    try {
      const body = {
        requestId,
        matterCode: matter.code,
        applicant: {
          name: applicantName.control.value.trim(),
          idNumber: normalizeIdNumber(applicantId.control.value),
          phone: phone.control.value.trim(),
          hukouDivision: hukou.control.value.trim(),
        },
        materials: materials.checked(),
        details: details.build(),
      };
      if (household) body.householdMembers = household.build();
      const answer = await call("POST", "/v1/applications", body);
      context.submitted = { ...answer, matterCode: matter.code, acceptedAt: new Date().toISOString() };
      context.navigate(`#/receipt/${answer.receipt}`);
    } catch (error) {
      showRefusal(error, fields, summary);
    } finally {
      sending = false;
      submit.disabled = false;
      form.removeAttribute("aria-busy");
      text(submit, "form.submit");
    }
  });

  return {
    element: form,
    applicantValues: () => ({
      name: applicantName.control.value,
      idNumber: applicantId.control.value,
      phone: phone.control.value,
      hukou: hukou.control.value,
    }),
  };
}

function summaryEntry(record, description) {
  const item = h("li");
  const link = h("a", { href: `#${record.control?.id ?? ""}` });
  const label = h("span", { i18n: record.labelKey });
  const message = record.error.textContent || description || "";
  link.append(label, "：", message);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    record.control?.focus();
  });
  item.append(link);
  return item;
}

function showSummary(summary, headingKey, items, extra = []) {
  clear(summary).append(h("h2", { i18n: headingKey }), h("ul", {}, items), ...extra);
  summary.hidden = false;
}

function showRefusal(error, fields, summary) {
  if (error instanceof Unreachable) {
    showSummary(summary, "error.unreachable", []);
    summary.focus();
    return;
  }
  if (!(error instanceof ApiRefusal)) throw error;
  if (error.httpStatus === 401) return;
  const { placed, unplaced } = fields.showServerProblems(error.violations);
  const items = [
    ...placed.map((record) => summaryEntry(record)),
    ...unplaced.map((violation) =>
      h("li", {}, `${violation.field}：${translatedDescription(violation.description || "")}`),
    ),
  ];
  const headingKey =
    error.httpStatus === 403 ? "error.forbidden" : error.httpStatus >= 500 ? "error.server" : "form.refused";
  const extra = [];
  if (!items.length) extra.push(h("p", {}, error.message));
  if (error.traceId) extra.push(h("p", { class: "trace" }, h("span", { i18n: "receipt.trace_id" }), "：", h("code", {}, error.traceId)));
  showSummary(summary, headingKey, items, extra);
  if (placed.length) placed[0].control?.focus();
  else summary.focus();
}

function householdSection(fields, applicantName, applicantId) {
  const rowsHost = h("div", { class: "household-rows" });
  const addButton = h("button", { type: "button", class: "secondary", i18n: "household.add" });
  const sectionRecord = {
    path: "household_members",
    labelKey: "form.household",
    control: addButton,
    touched: false,
    serverProblem: null,
    hint: h("p", { class: "hint", i18n: "household.hint" }),
    error: h("p", { class: "error", "aria-live": "polite" }),
  };
  sectionRecord.wrapper = h("div", { class: "field" }, sectionRecord.hint, sectionRecord.error);
  fields.register(sectionRecord);
  const rows = [{ applicant: true, relation: "本人", income: "" }];

  function memberIds(except) {
    return rows
      .filter((row) => row !== except && row.idRecord)
      .map((row) => normalizeIdNumber(row.idRecord.control.value));
  }

  function draw(focusIndex) {
    fields.forget("household_members[");
    clear(rowsHost);
    rows.forEach((row, index) => {
      const path = `household_members[${index}]`;
      const legendKey = row.applicant ? "household.applicant_row" : "household.member_row";
      const legend = h("legend", { i18n: [legendKey, { n: index + 1 }] });
      const name = inputField(fields, {
        path: `${path}.name`,
        label: "field.name",
        value: row.applicant ? applicantName.control.value : row.name ?? "",
        attributes: row.applicant ? { readonly: true, tabindex: "-1" } : { maxlength: String(MAX_NAME) },
      });
      const idNumber = inputField(fields, {
        path: `${path}.id_number`,
        label: "field.id_number",
        width: "wide",
        value: row.applicant ? applicantId.control.value : row.idNumber ?? "",
        attributes: row.applicant ? { readonly: true, tabindex: "-1", class: "mono" } : { maxlength: "22", class: "mono" },
        normalize: normalizeIdNumber,
        checkWhile: (value) => normalizeIdNumber(value).length >= 18,
      });
      const relation = inputField(fields, {
        path: `${path}.relation`,
        label: "field.relation",
        value: row.relation ?? "",
        attributes: row.applicant ? { readonly: true, tabindex: "-1" } : { list: "relations", maxlength: String(MAX_RELATION) },
      });
      const income = inputField(fields, {
        path: `${path}.monthly_income_fen`,
        label: "field.monthly_income",
        value: row.income ?? "",
        attributes: { inputmode: "decimal", class: "number" },
      });
      if (!row.applicant) {
        name.check = nameCheck(name.control);
        idNumber.check = idCheck(idNumber.control, { others: () => memberIds(row) });
        idNumber.describe = idDescription(idNumber.control);
        relation.check = required(relation.control);
      }
      income.check = () => yuanProblem(income.control.value, { maximum: MAX_MONTHLY_INCOME_YUAN });
      row.nameRecord = name;
      row.idRecord = idNumber;
      row.relationRecord = relation;
      row.incomeRecord = income;
      for (const [record, key] of [[name, "name"], [idNumber, "idNumber"], [relation, "relation"], [income, "income"]]) {
        record.control.addEventListener("input", () => {
          row[key] = record.control.value;
        });
      }
      const remove = row.applicant
        ? h("span", { class: "row-action-placeholder", "aria-hidden": "true" })
        : h("button", {
            type: "button",
            class: "link-button",
            i18n: ["household.remove", { n: index + 1 }],
            on: {
              click: () => {
                rows.splice(rows.indexOf(row), 1);
                draw();
                addButton.focus();
              },
            },
          });
      rowsHost.append(
        h(
          "fieldset",
          { class: `household-row${row.applicant ? " applicant-row" : ""}` },
          legend,
          h("div", { class: "field-grid household-grid" }, name.wrapper, idNumber.wrapper, relation.wrapper, income.wrapper, h("div", { class: "row-action" }, remove)),
        ),
      );
      if (focusIndex === index) name.control.focus();
    });
    addButton.disabled = rows.length >= MAX_MEMBERS;
    total();
  }

  // What the assistance rules compare with the standard: the household's income per member.
  const totals = h("p", { class: "household-total", "aria-live": "polite" });
  function total() {
    const incomes = rows.map((row) => row.incomeRecord?.control.value ?? "");
    if (incomes.some((value) => yuanProblem(value || "0"))) {
      clear(totals);
      return;
    }
    const sum = incomes.reduce((all, value) => all + fen(value || "0"), 0);
    text(totals, "household.total", { total: (sum / 100).toFixed(2), members: rows.length, each: (sum / rows.length / 100).toFixed(2) });
  }
  rowsHost.addEventListener("input", total);

  // The applicant's own row mirrors the applicant's fields, so the household always includes
  // the applicant and the clerk types each number once.
  const mirror = () => {
    const first = rows[0];
    if (!first?.nameRecord) return;
    first.nameRecord.control.value = applicantName.control.value;
    first.idRecord.control.value = applicantId.control.value;
  };
  applicantName.control.addEventListener("input", mirror);
  applicantId.control.addEventListener("input", mirror);
  applicantId.control.addEventListener("blur", mirror);

  addButton.addEventListener("click", () => {
    rows.push({ applicant: false, relation: "", income: "" });
    draw(rows.length - 1);
  });
  draw();

  const relations = h("datalist", { id: "relations" }, RELATIONS.map((relation) => h("option", { value: relation })));
  const element = section("form.household", sectionRecord.wrapper, rowsHost, h("div", { class: "row-tools" }, addButton, totals), relations);
  return {
    element,
    build: () =>
      rows.map((row) => ({
        name: row.nameRecord.control.value.trim(),
        idNumber: normalizeIdNumber(row.idRecord.control.value),
        relation: row.relationRecord.control.value.trim(),
        monthlyIncomeFen: fen(row.incomeRecord.control.value || "0"),
      })),
    idNumbers: () => rows.map((row) => normalizeIdNumber(row.idRecord.control.value)),
  };
}

function detailsSection(fields, matter, needs, applicantId) {
  const parts = [];
  const builders = [];

  if (needs.has("details.other_party")) {
    const name = inputField(fields, { path: "details.other_party.name", label: "field.other_party.name", attributes: { maxlength: String(MAX_NAME) } });
    name.check = nameCheck(name.control);
    const idNumber = idNumberField(fields, {
      path: "details.other_party.id_number",
      label: "field.other_party.id_number",
      checks: { others: () => [normalizeIdNumber(applicantId.control.value)] },
    });
    const phone = inputField(fields, { path: "details.other_party.phone", label: "field.other_party.phone", attributes: { inputmode: "tel", class: "mono" } });
    phone.check = () => (!phone.control.value.trim() || PHONE.test(phone.control.value.trim()) ? null : { key: "check.phone" });
    parts.push(h("h3", { i18n: "details.other_party" }), grid(name, idNumber, phone));
    builders.push((details) => {
      details.otherParty = {
        name: name.control.value.trim(),
        idNumber: normalizeIdNumber(idNumber.control.value),
        phone: phone.control.value.trim(),
      };
    });
  }

  if (needs.has("details.organisation")) {
    const registering = matter.code === "orgs.register";
    const records = [];
    let name;
    let kind;
    let capital;
    let creditCode;
    let year;
    if (registering) {
      name = inputField(fields, { path: "details.organisation.name", label: "field.organisation.name", width: "wide", attributes: { maxlength: String(MAX_NAME) } });
      name.check = nameCheck(name.control);
      kind = selectField(fields, {
        path: "details.organisation.kind",
        label: "field.organisation.kind",
        choices: ORGANISATION_KINDS.map((k) => [k, `organisation.${k}`]),
      });
      kind.check = required(kind.control);
      capital = inputField(fields, { path: "details.organisation.registered_capital_fen", label: "field.organisation.capital", attributes: { inputmode: "decimal", class: "number" } });
      capital.check = () => yuanProblem(capital.control.value, { optional: true });
      records.push(name, kind, capital);
    } else {
      creditCode = inputField(fields, {
        path: "details.organisation.credit_code",
        label: "field.organisation.credit_code",
        width: "wide",
        attributes: { maxlength: "18", class: "mono" },
        normalize: (value) => value.trim().toUpperCase(),
        checkWhile: (value) => value.trim().length >= 18,
      });
      creditCode.check = () => {
        const problem = creditCodeProblem(creditCode.control.value);
        return problem ? { key: problem } : null;
      };
      records.push(creditCode);
      if (matter.code === "orgs.annual_report") {
        const thisYear = localToday().year;
        year = inputField(fields, { path: "details.organisation.report_year", label: "field.organisation.report_year", value: String(thisYear - 1), attributes: { inputmode: "numeric", maxlength: "4", class: "number" } });
        year.check = () => wholeNumberProblem(year.control.value, 2000, thisYear);
        records.push(year);
      }
    }
    parts.push(h("h3", { i18n: "details.organisation" }), grid(...records));
    builders.push((details) => {
      details.organisation = registering
        ? {
            name: name.control.value.trim(),
            kind: kind.control.value,
            registeredCapitalFen: capital.control.value.trim() ? fen(capital.control.value) : 0,
          }
        : {
            creditCode: creditCode.control.value.trim().toUpperCase(),
            ...(year ? { reportYear: Number(year.control.value) } : {}),
          };
    });
  }

  if (needs.has("details.death")) {
    const name = inputField(fields, { path: "details.death.deceased_name", label: "field.death.name", attributes: { maxlength: String(MAX_NAME) } });
    name.check = nameCheck(name.control);
    const idNumber = idNumberField(fields, {
      path: "details.death.deceased_id_number",
      label: "field.death.id_number",
    });
    const today = localToday();
    const todayText = formatBirth(today);
    // Typed as text, year first, hinted in the console's language (dates.js).
    const { type: _type, ...asDate } = dateAttributes();
    const date = inputField(fields, {
      path: "details.death.date_of_death",
      label: "field.death.date",
      placeholder: "date.placeholder",
      attributes: asDate,
      normalize: (typed) => readDate(typed).date || typed,
    });
    date.check = () => {
      if (!date.control.value.trim()) return { key: "check.required" };
      const { date: value, problem } = readDate(date.control.value);
      if (problem) return { key: problem };
      if (value > todayText) return { key: "check.date.future" };
      const born = examineIdNumber(idNumber.control.value);
      if (!born.problem && value < formatBirth(born.born)) return { key: "check.date.before_birth" };
      return null;
    };
    parts.push(h("h3", { i18n: "details.death" }), grid(name, idNumber, date));
    builders.push((details) => {
      details.death = {
        deceasedName: name.control.value.trim(),
        deceasedIdNumber: normalizeIdNumber(idNumber.control.value),
        dateOfDeath: readDate(date.control.value).date || date.control.value.trim(),
      };
    });
  }

  if (needs.has("details.care")) {
    const service = selectField(fields, {
      path: "details.care.service",
      label: "field.care.service",
      choices: CARE_SERVICES.map((s) => [s, `care.${s}`]),
    });
    service.check = required(service.control);
    const hours = inputField(fields, { path: "details.care.hours_per_month", label: "field.care.hours", attributes: { inputmode: "numeric", class: "number" } });
    hours.check = () => wholeNumberProblem(hours.control.value, 1, MAX_CARE_HOURS);
    parts.push(h("h3", { i18n: "details.care" }), grid(service, hours));
    builders.push((details) => {
      details.care = { service: service.control.value, hoursPerMonth: Number(hours.control.value) };
    });
  }

  if (needs.has("details.disability")) {
    const grade = selectField(fields, {
      path: "details.disability.grade",
      label: "field.disability.grade",
      choices: [1, 2, 3, 4].map((g) => [String(g), `disability.grade.${g}`]),
    });
    grade.check = required(grade.control);
    const certificate = inputField(fields, { path: "details.disability.certificate_number", label: "field.disability.certificate", width: "wide", attributes: { maxlength: "40", class: "mono" } });
    certificate.check = required(certificate.control);
    parts.push(h("h3", { i18n: "details.disability" }), grid(grade, certificate));
    builders.push((details) => {
      details.disability = { grade: Number(grade.control.value), certificateNumber: certificate.control.value.trim() };
    });
  }

  if (needs.has("details.hardship")) {
    const supporter = checkboxField(fields, { path: "details.hardship.has_legal_supporter", label: "field.hardship.supporter" });
    const unable = checkboxField(fields, { path: "details.hardship.unable_to_work", label: "field.hardship.unable" });
    fields.alias("details.hardship", "details.hardship.unable_to_work");
    parts.push(h("h3", { i18n: "details.hardship" }), h("div", { class: "checks" }, supporter.wrapper, unable.wrapper));
    builders.push((details) => {
      details.hardship = { hasLegalSupporter: supporter.control.checked, unableToWork: unable.control.checked };
    });
  }

  if (needs.has("details.requested_amount_fen")) {
    const amount = inputField(fields, { path: "details.requested_amount_fen", label: "field.requested_amount", attributes: { inputmode: "decimal", class: "number" } });
    amount.check = () => yuanProblem(amount.control.value, { positive: true, maximum: 1_000_000 });
    parts.push(h("h3", { i18n: "details.requested_amount" }), grid(amount));
    builders.push((details) => {
      details.requestedAmountFen = fen(amount.control.value);
    });
  }

  if (needs.has("details.economic_check_consent")) {
    const consent = checkboxField(fields, {
      path: "details.economic_check_consent",
      label: "field.consent",
      hintKey: "hint.consent",
    });
    parts.push(h("h3", { i18n: "details.consent" }), consent.wrapper);
    builders.push((details, form) => {
      if (!consent.control.checked) return;
      // Signed at the counter just now, by the applicant, for every member listed.
      details.economicCheckConsent = {
        consentingIdNumber: normalizeIdNumber(applicantId.control.value),
        consentTime: new Date().toISOString(),
        memberIdNumbers: form.memberIdNumbers(),
      };
    });
  }

  return {
    element: parts.length ? section("form.details", ...parts) : null,
    build: () => {
      const details = {};
      const form = {
        memberIdNumbers: () =>
          [...fields.records.keys()]
            .filter((path) => /^household_members\[\d+\]\.id_number$/.test(path))
            .map((path) => normalizeIdNumber(fields.records.get(path).control.value)),
      };
      for (const build of builders) build(details, form);
      return details;
    },
  };
}

function materialsSection(fields, matter) {
  const boxes = [];
  const counter = h("p", { class: "materials-count", "aria-live": "polite" });
  const list = h("ul", { class: "materials" });
  for (const material of matter.requiredMaterials) {
    const id = uniqueId("material");
    const box = h("input", { type: "checkbox", id, value: material.code, name: "materials" });
    boxes.push(box);
    list.append(
      h(
        "li",
        {},
        box,
        h("label", { for: id }, h("span", { zhen: [material.titleZh, material.titleEn] }), " ", h("code", { class: "material-code" }, material.code)),
      ),
    );
  }
  const all = h("button", { type: "button", class: "link-button", i18n: "materials.all" });
  const record = fields.register({
    path: "materials",
    labelKey: "form.materials",
    control: boxes[0],
    touched: false,
    serverProblem: null,
    hint: h("p", { class: "hint", i18n: "materials.hint" }),
    error: h("p", { class: "error", "aria-live": "polite" }),
    check: () => {
      const missing = boxes.filter((box) => !box.checked).length;
      return missing ? { key: "check.materials.missing", params: { n: missing } } : null;
    },
  });
  const count = () => {
    text(counter, "materials.count", { n: boxes.filter((box) => box.checked).length, total: boxes.length });
  };
  for (const box of boxes) {
    box.addEventListener("change", () => {
      record.serverProblem = null;
      count();
      refresh(record);
    });
  }
  all.addEventListener("click", () => {
    for (const box of boxes) box.checked = true;
    count();
    record.serverProblem = null;
    refresh(record);
  });
  count();
  const legendId = uniqueId("materials");
  record.wrapper = h(
    "fieldset",
    { class: "materials-fieldset", "data-path": "materials", "aria-describedby": legendId },
    h("legend", { i18n: "form.materials" }),
    record.hint,
    list,
    h("div", { class: "materials-footer" }, counter, all),
    h("div", { id: legendId }, record.error),
  );
  const id = uniqueId("section");
  return {
    element: h("section", { class: "form-section", "aria-labelledby": id }, h("h2", { id, i18n: "form.materials_section" }), record.wrapper),
    checked: () => boxes.filter((box) => box.checked).map((box) => box.value),
  };
}

