import { heading } from "./ui.js";

export async function renderEntry() {
  return [heading("nav.entry")];
}
