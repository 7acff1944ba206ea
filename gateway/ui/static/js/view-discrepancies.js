import { heading } from "./ui.js";

export async function renderDiscrepancies() {
  return [heading("nav.discrepancies")];
}
export const renderDiscrepancy = renderDiscrepancies;
export const renderRun = renderDiscrepancies;
