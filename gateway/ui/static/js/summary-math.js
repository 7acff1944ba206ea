// summary-math.js: the arithmetic of CTF Table 4 redone here over the rows the API gives
// (no DOM). What is recomputed (gateway/core/summary.py states the rules):
//   R7, R8, R9 = the sum of the quantities of the blocks counted in the row;
//   R10 = R7 + R8 - R9;  R13(y) = the sum of R10 over the NDC period up to y;  R14 = R5 + R12.
// A row that is not computed (unknown, not applicable) is not checked.

/** A decimal text "-12.50" as {n: -1250n, scale: 2}; null when it is not one. */
export function parseDecimal(text) {
  const m = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(String(text));
  if (!m) return null;
  const frac = m[3] || "";
  const n = BigInt(m[2] + frac);
  return { n: m[1] ? -n : n, scale: frac.length };
}

function scaled(d, scale) {
  return d.n * 10n ** BigInt(scale - d.scale);
}

/** a + b (decimals). */
export function add(a, b) {
  const scale = Math.max(a.scale, b.scale);
  return { n: scaled(a, scale) + scaled(b, scale), scale };
}

export const neg = (a) => ({ n: -a.n, scale: a.scale });

/** Whether two decimals are the same number (2100 = 2100.0). */
export function same(a, b) {
  const scale = Math.max(a.scale, b.scale);
  return scaled(a, scale) === scaled(b, scale);
}

const ZERO = { n: 0n, scale: 0 };

function value(row) {
  return row && row.status === "computed" && row.value !== null ? parseDecimal(row.value) : null;
}

/**
 * What the rows of `year` should be, from the other rows and the blocks: {row: decimal}
 * for each row this page can recompute. `before`: the years of the answer before `year`
 * (for R13, only when they cover the NDC period from its start).
 */
export function expected(year, before, periodStart) {
  const out = {};
  const rows = year.rows;
  for (const name of ["R7", "R8", "R9"]) {
    const row = rows[name];
    if (!value(row)) continue;
    let sum = ZERO;
    for (const b of row.blocks) {
      const q = parseDecimal(b.quantity);
      if (q === null) return out;
      sum = add(sum, q);
    }
    out[name] = sum;
  }
  const [r7, r8, r9] = ["R7", "R8", "R9"].map((n) => value(rows[n]));
  if (value(rows.R10) && r7 && r8 && r9) out.R10 = add(add(r7, r8), neg(r9));
  const r5 = value(rows.R5);
  const r12 = value(rows.R12);
  if (value(rows.R14) && r5 && r12) out.R14 = add(r5, r12);
  const years = [...before, year];
  const contiguous = years.every((y, i) => y.year === periodStart + i);
  if (value(rows.R13) && contiguous) {
    let sum = ZERO;
    for (const y of years) {
      const r10 = value(y.rows.R10);
      if (!r10) return out;
      sum = add(sum, r10);
    }
    out.R13 = sum;
  }
  return out;
}

/** The text of a decimal (for showing what was recomputed). */
export function decimalText(d) {
  const neg = d.n < 0n;
  let digits = (neg ? -d.n : d.n).toString().padStart(d.scale + 1, "0");
  if (d.scale) digits = `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`;
  return (neg ? "-" : "") + digits;
}

/**
 * The check of one cell: "verified" when the row's value is what the page recomputes,
 * "not-verified" when it is not, null when this row cannot be recomputed here.
 */
export function checkCell(answer, year, name) {
  const i = answer.years.indexOf(year);
  const want = expected(year, answer.years.slice(0, i), answer.ndc_period[0])[name];
  if (!want) return null;
  const got = value(year.rows[name]);
  return { state: got && same(got, want) ? "verified" : "not-verified", want: decimalText(want) };
}
