import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The front end built at package build time (Vite, from web/) into dist/web. Found from src/ and dist/
 * alike, both two levels below the package root.
 */
export const WEB_ROOT = fileURLToPath(new URL("../../dist/web/", import.meta.url));

export function reportAssets(): { script: string; styles: string } {
  const folder = `${WEB_ROOT}report/`;
  if (!existsSync(`${folder}report.js`)) throw new Error(`the report front end is not built (${folder}report.js is missing): run npm run build`);
  const css = readdirSync(folder).filter((file) => file.endsWith(".css"));
  return { script: readFileSync(`${folder}report.js`, "utf8"), styles: css.map((file) => readFileSync(folder + file, "utf8")).join("\n") };
}
