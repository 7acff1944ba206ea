import { heading } from "./ui.js";

export async function renderSearch() {
  return [heading("nav.search")];
}
