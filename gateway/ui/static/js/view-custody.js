import { heading } from "./ui.js";

export async function renderCustody() {
  return [heading("nav.custody")];
}
