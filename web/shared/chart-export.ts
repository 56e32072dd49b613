// Any chart as a file: its SVG as drawn (every label a text node, so hostile text stays text), or a PNG drawn
// from that SVG on a canvas. Works in the static report (file://, no network) and in the viewer: the image
// is a data: URL and the download a blob: link, which both pages' Content-Security-Policy allow.

import { h } from "./dom.js";

/** A file name from a chart title: letters, digits and dashes only. */
export function fileNameOf(title: string, extension: string): string {
  const base = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80);
  return `${base || "chart"}.${extension}`;
}

/** Saves a blob under a name, through a temporary link (never added to the page). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The chart's SVG as a standalone file: namespaced, sized, on a white ground, titled. */
export function standaloneSvg(plot: HTMLElement, title: string): { text: string; width: number; height: number } | undefined {
  const drawn = plot.querySelector("svg");
  if (!drawn) return undefined;
  const svg = drawn.cloneNode(true) as SVGSVGElement;
  const width = Math.ceil(drawn.getBoundingClientRect().width) || Number(drawn.getAttribute("width")) || 600;
  const height = Math.ceil(drawn.getBoundingClientRect().height) || Number(drawn.getAttribute("height")) || 300;
  const ns = "http://www.w3.org/2000/svg";
  svg.setAttribute("xmlns", ns);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const ground = document.createElementNS(ns, "rect");
  for (const [name, value] of Object.entries({ x: "0", y: "0", width: String(width), height: String(height), fill: "#ffffff" })) ground.setAttribute(name, value);
  const name = document.createElementNS(ns, "title");
  name.textContent = title;
  svg.insertBefore(ground, svg.firstChild);
  svg.insertBefore(name, svg.firstChild);
  return { text: new XMLSerializer().serializeToString(svg), width, height };
}

/** The SVG drawn on a canvas at twice its size, as PNG. */
export function pngOf(svg: { text: string; width: number; height: number }): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = svg.width * 2;
      canvas.height = svg.height * 2;
      const context = canvas.getContext("2d");
      if (!context) return reject(new Error("no canvas"));
      context.scale(2, 2);
      context.drawImage(image, 0, 0, svg.width, svg.height);
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the canvas gave no PNG"))), "image/png");
    };
    image.onerror = () => reject(new Error("the chart's SVG could not be drawn"));
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg.text)}`;
  });
}

/** The two small buttons of a chart's caption. */
export function exportButtons(plot: HTMLElement, title: string): HTMLElement {
  const save = async (kind: "svg" | "png") => {
    const svg = standaloneSvg(plot, title);
    if (!svg) return;
    const blob = kind === "svg" ? new Blob([svg.text], { type: "image/svg+xml" }) : await pngOf(svg);
    download(blob, fileNameOf(title, kind));
  };
  return h(
    "span",
    { class: "chart-export" },
    h("button", { type: "button", class: "chart-save", "data-format": "svg", title: "save this chart as SVG", onclick: () => void save("svg") }, "SVG"),
    h("button", { type: "button", class: "chart-save", "data-format": "png", title: "save this chart as PNG", onclick: () => void save("png") }, "PNG"),
  );
}
