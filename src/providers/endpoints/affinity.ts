import { createHash } from "node:crypto";

/** The characters of a prompt that pick its preferred server: shared system prompts and few-shot headers fit. */
export const AFFINITY_PREFIX_CHARS = 256;

/**
 * Endpoint indexes in order of preference for a prompt prefix, by rendezvous (highest-random-weight)
 * hashing: each (prefix, endpoint) pair gets a score and the highest wins, so the same prefix always
 * prefers the same server, and removing one server moves only the prefixes that preferred it.
 */
export function affinityRank(prefix: string, endpoints: readonly string[]): number[] {
  const head = prefix.slice(0, AFFINITY_PREFIX_CHARS);
  const scores = endpoints.map((endpoint) => createHash("sha1").update(endpoint).update("\0").update(head).digest().readUInt32BE(0));
  return endpoints.map((_, index) => index).sort((a, b) => scores[b]! - scores[a]! || a - b);
}
