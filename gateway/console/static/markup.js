// Builds the page from elements, never from HTML strings: notes and names come from the
// server and from what the clerk typed, and must show as text, never run as markup.
import { bilingual, text } from "./i18n.js";

let serial = 0;

// A page-unique id, for label/for and aria-describedby pairs.
export function uniqueId(stem) {
  serial += 1;
  return `${stem}-${serial}`;
}

// h("p", {class: "hint", i18n: ["key", {n: 1}]}, child, "text")
//   i18n: translated text that follows the language toggle
//   zhen: [zh, en] text from the catalog, which carries both languages
//   on: {event: handler}; anything else is an attribute (true → present, false/null → absent)
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "i18n") {
      const [key, params] = Array.isArray(value) ? value : [value];
      text(element, key, params);
    } else if (name === "zhen") {
      bilingual(element, value[0], value[1]);
    } else if (name === "on") {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else if (name === "class") {
      element.className = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element) {
  element.replaceChildren();
  return element;
}
