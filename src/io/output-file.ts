import { randomBytes } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { EnvironmentError, UserError } from "../errors.js";

// Files the user names (`report --output`, `--json FILE`) and report.html in a run folder. A symbolic link
// at that path, planted in a shared run folder or left by accident, would have alignbench overwrite the
// file it points to. So a link is refused, and the text goes to a new temporary file beside the target
// (O_EXCL | O_NOFOLLOW: never an existing file, never through a link) renamed over it: rename replaces
// the name itself, so even a link made after the check is replaced, not written through, and a reader
// never sees half a file.

/** Refuses (exit 2) an output path that is a symbolic link or not a regular file: checked before long work too. */
export function checkOutputFile(file: string): void {
  const existing = lstatSync(file, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) throw new UserError(`${file} is a symbolic link: alignbench does not write through links (remove it, or choose another output file)`);
  if (existing && !existing.isFile()) throw new UserError(`${file} is not a regular file: choose another output file`);
}

/** Writes `text` to `file`, refusing (exit 2) when `file` is a symbolic link or not a regular file. */
export function writeOutputFile(file: string, text: string): void {
  checkOutputFile(file);
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const descriptor = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
    try {
      const bytes = Buffer.from(text, "utf8");
      for (let written = 0; written < bytes.length; ) written += writeSync(descriptor, bytes, written);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (code === "ENOENT") throw new UserError(`cannot write ${file}: its folder ${dirname(file)} does not exist`);
    throw new EnvironmentError(`cannot write ${file} (${code})`);
  }
}
