import { knownSecrets, scrubText, secretList } from "../secrets.js";

/**
 * Makes every write to stdout and stderr pass through the secret scrubber: keys, header values and URL
 * credentials the run was given (noted by the model registry) never reach the terminal, whichever part of
 * alignbench prints (errors, progress messages, summaries, a provider's echoed error body). One choke
 * point, because printing happens in many places and a new one must not be able to forget it.
 */
const guarded = new WeakSet<NodeJS.WriteStream>();

export function scrubTerminal(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (guarded.has(stream)) continue;
    guarded.add(stream);
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    let seen = 0;
    let secrets: string[] = [];
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const known = knownSecrets();
      if (known.length === 0) return write(chunk, ...rest);
      if (known.length !== seen) {
        seen = known.length;
        secrets = secretList(known);
      }
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
      return write(text === undefined ? chunk : scrubText(text, secrets), ...rest);
    }) as NodeJS.WriteStream["write"];
  }
}
