import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** Reads ./.env into process.env; variables already set win, so a shell export always overrides the file. */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = resolve(cwd, ".env");
  if (existsSync(file)) process.loadEnvFile(file);
}
