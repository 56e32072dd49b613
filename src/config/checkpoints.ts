import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { naturalCompare } from "../common/natural-order.js";
import { isRemoteReference } from "../io/download.js";

// The models of a drift run as the user names them: model addresses, GGUF files, or a folder of checkpoints
// (every .gguf in it, in natural order: step-2 before step-10), turned into addresses the runner loads.
// Local files are checked here, so a mistyped path is one clear line before anything loads.

const LLAMACPP = "llamacpp:";

/** Whether a value names a local path rather than a model id ("gpt-4.1-mini", "qwen2.5"). */
function looksLikePath(value: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/])/.test(value) || /\.gguf$/i.test(value) || (value.includes("/") && existsAsPath(value));
}

function existsAsPath(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The .gguf files of a folder, in natural order; an empty folder is an error naming it. */
export function checkpointFiles(folder: string, where: string): string[] {
  const files = readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.gguf$/i.test(entry.name))
    .map((entry) => entry.name)
    .sort(naturalCompare);
  if (files.length === 0) throw new UserError(`${where}: folder ${folder} holds no .gguf file (give checkpoints as GGUF files; see the README on converting a Hugging Face checkpoint)`);
  return files.map((file) => join(folder, file));
}

/**
 * One model as given (`llamacpp:PATH`, a .gguf path, a folder, or any other provider's address) → the
 * addresses it stands for. `base` resolves relative paths (a config file's folder); `where` names the
 * flag or field in errors.
 */
export function modelAddresses(value: string, where: string, base = "."): string[] {
  const prefixed = value.startsWith(LLAMACPP);
  const target = prefixed ? value.slice(LLAMACPP.length) : value;
  if (isRemoteReference(target) || (!prefixed && !looksLikePath(target))) return [value];
  const path = resolve(base, target);
  let info;
  try {
    info = statSync(path);
  } catch {
    throw new UserError(`${where}: no such file or folder ${target}${base === "." ? "" : ` (looked for ${path})`}`);
  }
  if (info.isDirectory()) return checkpointFiles(path, where).map((file) => LLAMACPP + file);
  if (!/\.gguf$/i.test(path)) throw new UserError(`${where}: ${target} is not a .gguf file (local models are GGUF files; see the README on converting a Hugging Face checkpoint)`);
  return [LLAMACPP + path];
}

/** A comma list or a list of models → every checkpoint's address, in the order given (a folder's in natural order). */
export function checkpointAddresses(values: string | string[], where: string, base = "."): string[] {
  const list = (Array.isArray(values) ? values : values.split(",")).map((value) => value.trim()).filter(Boolean);
  const addresses = list.flatMap((value) => modelAddresses(value, where, base));
  const twice = addresses.find((address, index) => addresses.indexOf(address) !== index);
  if (twice) throw new UserError(`${where}: ${twice} is listed twice`);
  return addresses;
}
