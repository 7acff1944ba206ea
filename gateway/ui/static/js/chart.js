// chart.js: a hand-written SVG chart of a Party's emissions balance (CTF Table 4 row 14)
// against its inventory (row 5) over the NDC period. No library; values only drawn where
// the summary computed them.

import { s } from "./dom.js";
import { t } from "./i18n.js";

const W = 640;
const H = 280;
const PAD = { left: 84, right: 16, top: 16, bottom: 48 };

/** Nice upper bound for the axis (1, 2 or 5 times a power of ten). */
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const fmt = (v) => new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }).format(v);

/**
 * @param {{year: number, r5: number|null, r14: number|null}[]} points one per NDC year
 */
export function balanceChart(points) {
  const values = points.flatMap((p) => [p.r5, p.r14]).filter((v) => v !== null);
  const top = niceMax(Math.max(0, ...values));
  const x = (i) => PAD.left + ((W - PAD.left - PAD.right) * (i + 0.5)) / Math.max(points.length, 1);
  const y = (v) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / top;
  const band = (W - PAD.left - PAD.right) / Math.max(points.length, 1);
  const bar = Math.max(4, Math.min(24, band / 3));
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(top * f), y2: y(top * f), class: "grid" }),
    s("text", { x: PAD.left - 6, y: y(top * f) + 4, class: "axis", "text-anchor": "end" }, fmt(top * f)),
  ]);
  const column = (left, v, row, title) =>
    v === null ? null : s("rect", { x: left, y: y(v), width: bar, height: y(0) - y(v), class: `bar-${row}` }, s("title", {}, title));
  const marks = points.map((p, i) => [
    column(x(i) - bar - 1, p.r5, "r5", `${p.year} R5 ${p.r5}`),
    column(x(i) + 1, p.r14, "r14", `${p.year} R14 ${p.r14}`),
    s("text", { x: x(i), y: H - PAD.bottom + 16, class: "axis", "text-anchor": "middle" }, String(p.year)),
  ]);
  const legend = [
    s("rect", { x: PAD.left, y: H - 18, width: 12, height: 12, class: "bar-r5" }),
    s("text", { x: PAD.left + 16, y: H - 8, class: "legend" }, t("chart.r5")),
    s("rect", { x: PAD.left + 250, y: H - 18, width: 12, height: 12, class: "bar-r14" }),
    s("text", { x: PAD.left + 266, y: H - 8, class: "legend" }, t("chart.r14")),
  ];
  return s(
    "svg",
    { id: "summary-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "summary-chart-title", class: "chart" },
    s("title", { id: "summary-chart-title" }, t("chart.title")),
    grid,
    s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), class: "axis-line" }),
    marks,
    legend,
  );
}
