import { heading } from "./ui.js";

export async function renderSummary() {
  return [heading("nav.summary")];
}
