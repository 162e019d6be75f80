// Every string the console shows goes through t(). English and Simplified Chinese ship; a
// missing translation falls back to English, and a missing English string shows its key.

import en from "./i18n/en.js";
import zhCN from "./i18n/zh-CN.js";

const DICTIONARIES = { en, "zh-CN": zhCN };
export const LANGUAGES = [
  ["en", "English"],
  ["zh-CN", "简体中文"],
];
const STORAGE_KEY = "cw.lang";
const listeners = new Set();

function initial() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && DICTIONARIES[saved]) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

let current = initial();

export function language() {
  return current;
}

export function t(key, vars) {
  let text = DICTIONARIES[current][key] ?? en[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
  return text;
}

export function has(key) {
  return key in DICTIONARIES[current] || key in en;
}

export function setLanguage(lang) {
  if (!DICTIONARIES[lang] || lang === current) return;
  current = lang;
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
  translateTree(document);
  for (const fn of listeners) fn(lang);
}

export function onLanguage(fn) {
  listeners.add(fn);
}

// Static markup names its strings: data-i18n (text), data-i18n-label (aria-label),
// data-i18n-title (title), data-i18n-placeholder.
export function translateTree(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function typeLabel(type, fallback) {
  const key = `type.${type}`;
  return has(key) ? t(key) : fallback || type;
}

export function statusLabel(status) {
  const key = `status.${status}`;
  return has(key) ? t(key) : status.replace(/_/g, " ");
}

// SOP steps carry their own labels per language ("en", "zh").
export function pick(labels) {
  if (!labels) return "";
  return labels[current] || labels[current.slice(0, 2)] || labels.en || Object.values(labels)[0] || "";
}

document.documentElement.lang = current;
