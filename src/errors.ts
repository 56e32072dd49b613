/**
 * The CLI's exit codes (README, "Exit codes" under Commands): 0 done, 1 a bug in alignbench, 2 bad input or
 * usage (preflight failures included), 3 the run finished with items still failed (resumable), 4 the
 * environment failed (disk full, write error, permission), 130 interrupted (resumable).
 */
export const EXIT = { done: 0, bug: 1, badInput: 2, itemsFailed: 3, environment: 4, interrupted: 130 } as const;

/**
 * Errors a user can fix. The CLI prints their message without a stack trace and exits non-zero;
 * anything else is a bug in alignbench and is printed in full.
 */
export class UserError extends Error {
  override readonly name: string = "UserError";
  readonly exitCode: number = 2;
}

/** A problem at a place in an input file: printed as `file:line: field: problem`. */
export class InputError extends UserError {
  override readonly name: string = "InputError";
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly problem: string,
  ) {
    super(formatLocation(file, line, field, problem));
  }
}

export function formatLocation(file: string, line: number | undefined, field: string | undefined, problem: string): string {
  const where = line === undefined ? file : `${file}:${line}`;
  return field ? `${where}: ${field}: ${problem}` : `${where}: ${problem}`;
}

/** Several input problems found in one pass, reported together. */
export class InputErrors extends UserError {
  override readonly name: string = "InputErrors";
  constructor(
    readonly problems: InputError[],
    readonly total: number,
  ) {
    const shown = problems.map((p) => p.message).join("\n");
    const more = total > problems.length ? `\n… and ${total - problems.length} more` : "";
    super(`${total} invalid row${total === 1 ? "" : "s"}:\n${shown}${more}`);
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** The machine, not the input: a full disk, a write or permission error. Exit code 4. */
export class EnvironmentError extends UserError {
  override readonly name: string = "EnvironmentError";
  override readonly exitCode: number = 4;
}

/**
 * A Ctrl-C or SIGTERM that stopped a run before its run folder was opened (during a download, a model load or
 * the preflight): nothing was written, so there is nothing to resume. Exit code 130, like an interrupted run.
 */
export class InterruptedError extends UserError {
  override readonly name: string = "InterruptedError";
  override readonly exitCode: number = 130;
}
