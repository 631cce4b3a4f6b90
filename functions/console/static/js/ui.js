// Small DOM helpers. Everything is built with createElement/textContent: no HTML strings, so nothing the API
// or a user typed can ever become markup.

/** h("button", {class: "btn", onclick: fn}, "Text", child) */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

let flashSeq = 0;

/** Show a message at the top of the page. kind: info | success | error | warning. */
export function flash(message, kind = "info", { timeout = kind === "error" ? 0 : 8000 } = {}) {
  const area = document.getElementById("flash");
  // One piece of good news at a time; errors stay until dismissed.
  for (const old of area.querySelectorAll(".flash--success, .flash--info")) old.remove();
  const id = `flash-${++flashSeq}`;
  const close = h("button", { type: "button", class: "flash__close", "aria-label": "Dismiss message" }, "×");
  const node = h("div", { class: `flash flash--${kind}`, id, role: kind === "error" ? "alert" : null },
    h("span", { class: "flash__text" }, message), close);
  close.addEventListener("click", () => node.remove());
  area.append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
  return node;
}

export function clearFlash() {
  clear(document.getElementById("flash"));
}

/** A modal confirmation with the native <dialog>; resolves true when confirmed. */
export function confirmAction({ title, text, confirm }) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = confirm;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 || value >= 10 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds) {
  const total = Math.round(seconds);
  const m = Math.floor(total / 60);
  const s = String(total % 60).padStart(2, "0");
  return `${m}:${s}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(value) {
  if (value === undefined || value === null || value === "") return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateFormat.format(date);
}

/** An avatar image that falls back to initials when the picture cannot load (CDN offline, expired URL). */
export function avatar(url, name, size = 40) {
  const initials = (name || "?").trim().split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase() || "?";
  const fallback = h("span", { class: "avatar avatar--initials", "aria-hidden": "true" }, initials);
  fallback.classList.add(`avatar--${size}`);
  if (!url) return fallback;
  const img = h("img", { class: `avatar avatar--${size}`, src: url, alt: "", width: size, height: size, referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(fallback), { once: true });
  return img;
}
