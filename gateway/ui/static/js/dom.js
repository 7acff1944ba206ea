// dom.js: building elements without innerHTML (data from the API is only ever text).

/**
 * h("tag", {id, class, testid, state, text, ...attributes, on: {event: fn}}, ...children)
 * `testid` becomes data-testid, `state` data-state; other keys are attributes (a false or
 * null value leaves the attribute out). Children are nodes or strings (as text).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(
    tag === "svg" || attrs.svg ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml",
    tag,
  );
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false || k === "svg") continue;
    if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "text") el.textContent = String(v);
    else if (k === "testid") el.setAttribute("data-testid", v);
    else if (k === "state") el.setAttribute("data-state", v);
    else if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/** An SVG element (h with the SVG namespace). */
export const s = (tag, attrs = {}, ...children) => h(tag, { ...attrs, svg: true }, ...children);

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A definition list from [label, value] pairs (value: node, text or null to skip). */
export function fields(pairs, attrs = {}) {
  return h(
    "dl",
    { class: "fields", ...attrs },
    pairs
      .filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v, id]) => [h("dt", {}, k), h("dd", id ? { id } : {}, v)]),
  );
}
