// Every string shown comes from a dataset, a model or a judge, and is hostile: it only ever becomes a
// text node or an attribute value, never HTML. There is no innerHTML anywhere in the front end.

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

const SAFE_ATTRIBUTE = /^(class|id|title|type|value|placeholder|for|name|min|max|step|colspan|rowspan|role|aria-[a-z-]+|data-[a-z-]+|open|selected|checked|disabled|href|tabindex)$/;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.replace(/^on/, ""), value);
      continue;
    }
    if (!SAFE_ATTRIBUTE.test(name)) throw new Error(`attribute ${name} is not allowed`);
    // Links only ever point inside the app: a dataset string can never become a javascript: URL.
    if (name === "href" && !String(value).startsWith("#")) throw new Error("only in-page links are allowed");
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

export function clear(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

export function table(header: string[], rows: Child[][], attributes: Attributes = {}): HTMLElement {
  return h(
    "table",
    attributes,
    h("thead", {}, h("tr", {}, ...header.map((title) => h("th", {}, title)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))),
  );
}

/** A long text (prompt, response, judge output) in a preformatted block, as text. */
export function textBlock(label: string, text: string | null): HTMLElement {
  return h("div", { class: "text-block" }, h("div", { class: "text-label" }, label), h("pre", {}, text ?? "—"));
}
