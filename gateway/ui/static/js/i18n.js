// i18n.js: every label the page shows, in English and Japanese (the JCM's two working
// languages). The language is the one chosen with the switch (local storage "a6gw.lang"),
// else the browser's. No DOM here except what `applyStatic` fills (data-i18n attributes).

import { en } from "./i18n-en.js";
import { ja } from "./i18n-ja.js";

export const DICTIONARIES = { en, ja };
export const LANG_KEY = "a6gw.lang";

let current = "en";

/** The language to start in: the stored choice, else the browser's, else English. */
export function initialLanguage(stored, browserLanguages) {
  if (stored && stored in DICTIONARIES) return stored;
  for (const l of browserLanguages || []) {
    const base = String(l).toLowerCase().split("-")[0];
    if (base in DICTIONARIES) return base;
  }
  return "en";
}

export function setLanguage(lang) {
  current = lang in DICTIONARIES ? lang : "en";
  return current;
}

export const language = () => current;

/** The label `key` in the current language, with `{name}` replaced from `vars`. */
export function t(key, vars = {}) {
  const text = DICTIONARIES[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Whether there is a label `key` (for values of a closed vocabulary). */
export const hasLabel = (key) => key in en;

/** Keys English has that `lang` lacks (a test requires none). */
export function missingKeys(lang) {
  return Object.keys(en).filter((k) => !(k in DICTIONARIES[lang]));
}

/** Fill every [data-i18n] element of `root` (text) and [data-i18n-*] attribute. */
export function applyStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attr of ["placeholder", "aria-label", "title"]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
    }
  }
  root.documentElement?.setAttribute("lang", current);
}
