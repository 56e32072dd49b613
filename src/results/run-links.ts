import { lstatSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { folderFiles } from "./run-folder.js";

// A run folder may come from someone else (a shared drive, an archive). A symbolic link in it — the folder
// itself, its manifest, its results — would make the viewer serve, or a report embed, a file from anywhere
// on the machine (~/.ssh/id_rsa as "results.parquet"). So readers check with lstat, which does not follow
// links, and refuse a run folder that holds one; the link is never read.

/** Every name in a run folder that alignbench reads or writes (SQLite's side files included). */
function runFolderEntries(folder: string): string[] {
  const { folder: _folder, ...files } = folderFiles(folder);
  const names = ["report.html", "state.sqlite-wal", "state.sqlite-shm", "state.sqlite-journal"];
  return [...Object.values(files), ...names.map((name) => join(folder, name))];
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false; // ENOTDIR and the like: nothing there to follow
  }
}

/** The first symbolic link among the run folder and its files, or undefined when there is none. */
export function runFolderLink(given: string): string | undefined {
  // resolve() drops a trailing slash, with which lstat would follow a linked folder.
  const folder = resolve(given);
  if (isLink(folder)) return folder;
  return runFolderEntries(folder).find(isLink);
}

/** Refuses (exit 2, naming the link) a run folder that is, or holds, a symbolic link. */
export function refuseRunFolderLinks(folder: string): void {
  const link = runFolderLink(folder);
  if (link !== undefined) throw new UserError(`${link} is a symbolic link: alignbench does not follow links in run folders (copy the file or folder in its place)`);
}
