// DOM-hjälp: element med text (aldrig HTML) och uppläsning för skärmläsare.
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

// Danger: said at once (role="alert"), interrupting whatever the screen reader is reading.
export function urgent(text) {
  const region = $("urgent");
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}
