// The console's two languages. Every element whose text depends on the language remembers
// its key (data-i18n) or its catalog pair (data-zh/data-en), so switching the language
// re-labels the page in place and never loses what the clerk has typed.
import { STRINGS } from "./strings.js";

const LANGUAGE_KEY = "onedoor.console.language";
const LANGUAGES = ["zh", "en"];

let language = LANGUAGES.includes(localStorage.getItem(LANGUAGE_KEY))
  ? localStorage.getItem(LANGUAGE_KEY)
  : "zh";

export function currentLanguage() {
  return language;
}

export function t(key, params = {}) {
  const template = STRINGS[language][key] ?? STRINGS.zh[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : ""));
}

// Text the console writes into the bureau's records (a decision's reason) is in Chinese,
// whatever language the officer reads the console in.
export function recordText(key) {
  return STRINGS.zh[key] ?? key;
}

// Whether the current language has its own words for a key: the server's descriptions are
// English already, so English falls back to them rather than to the Chinese.
export function known(key) {
  return Object.hasOwn(STRINGS[language], key);
}

export function text(element, key, params) {
  element.dataset.i18n = key;
  if (params) element.dataset.i18nParams = JSON.stringify(params);
  else delete element.dataset.i18nParams;
  element.textContent = t(key, params);
  return element;
}

// An attribute (placeholder, aria-label, alt, title) that follows the language.
export function attribute(element, name, key, params) {
  const keys = JSON.parse(element.dataset.i18nAttributes ?? "{}");
  keys[name] = [key, params ?? null];
  element.dataset.i18nAttributes = JSON.stringify(keys);
  element.setAttribute(name, t(key, params ?? {}));
  return element;
}

export function bilingual(element, zh, en) {
  element.dataset.zh = zh;
  element.dataset.en = en || zh;
  element.textContent = language === "en" ? element.dataset.en : zh;
  return element;
}

export function pick(zh, en) {
  return language === "en" && en ? en : zh;
}

export function setLanguage(next) {
  if (!LANGUAGES.includes(next)) return;
  language = next;
  localStorage.setItem(LANGUAGE_KEY, next);
  translate(document);
  // The server renders the domain texts in one language: views showing them fetch again.
  window.dispatchEvent(new CustomEvent("onedoor:language", { detail: next }));
}

export function translate(root) {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  for (const element of root.querySelectorAll("[data-i18n]")) {
    const params = element.dataset.i18nParams ? JSON.parse(element.dataset.i18nParams) : {};
    element.textContent = t(element.dataset.i18n, params);
  }
  for (const element of root.querySelectorAll("[data-i18n-attributes]")) {
    for (const [name, [key, params]] of Object.entries(JSON.parse(element.dataset.i18nAttributes))) {
      element.setAttribute(name, t(key, params ?? {}));
    }
  }
  for (const element of root.querySelectorAll("[data-zh]")) {
    element.textContent = language === "en" ? element.dataset.en : element.dataset.zh;
  }
}

// Times as the bureau reads them: China Standard Time, whatever the PC's own zone, and the
// same digits in both languages.
const BUREAU_TIME = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

export function formatTime(iso) {
  if (!iso) return "—";
  const parts = Object.fromEntries(
    BUREAU_TIME.formatToParts(new Date(iso)).map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

export function formatYuan(fen) {
  return (Number(fen) / 100).toFixed(2);
}

// Calls `handler` after each change of language for as long as `view` is on the page: the
// views that show the server's texts fetch them again in the new language.
export function whileShown(view, handler) {
  const listener = () => {
    if (!view.isConnected) {
      window.removeEventListener("onedoor:language", listener);
      return;
    }
    handler();
  };
  window.addEventListener("onedoor:language", listener);
}
