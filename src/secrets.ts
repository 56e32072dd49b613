/**
 * Every secret value this process has been given: API keys, header values, credentials in base URLs.
 * The model registry notes them as it resolves models; the CLI scrubs what it prints of them (terminal.ts),
 * and run folders use a Redactor built from the same values. Kept per process because the terminal is:
 * an error may be printed after the run that resolved the model has gone.
 */
const known = new Set<string>();

/** Values shorter than this are not secrets worth hiding (and hiding them would garble ordinary text). */
export const MIN_SECRET_LENGTH = 6;

export function noteSecrets(values: Iterable<string>): void {
  for (const value of values) if (value.length >= MIN_SECRET_LENGTH) known.add(value);
}

export function knownSecrets(): string[] {
  return [...known];
}

/** `text` with each of `secrets` (longest first, so a key containing another is hidden whole) replaced by [REDACTED]. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
  return out;
}

/** Longest first, distinct, long enough: the order scrubText wants. */
export function secretList(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((value) => value.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` without any secret this process knows: for text about to be cut, so no prefix of a key survives the cut. */
export function scrubKnown(text: string): string {
  return known.size === 0 ? text : scrubText(text, secretList(known));
}
