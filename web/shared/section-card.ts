import { h } from "./dom.js";

/** A card of the page: a titled section with an id to link to. */
export function section(title: string, id: string, ...children: Array<Node | null | false>): HTMLElement {
  return h("section", { class: "card", id }, h("h2", {}, title), ...children);
}
