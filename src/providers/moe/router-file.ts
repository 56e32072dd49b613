import { createHash } from "node:crypto";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { InputError, UserError } from "../../errors.js";
import { readTextFile } from "../../io/text-file.js";

// The router file the `moe:` provider loads and `weights calibrate` writes: small JSON, versioned.
//   { "format": "alignbench-moe-router", "version": 1, "mode": "top" | "mix",
//     "embedding": "<model address with an embed capability>", "temperature": T,
//     "experts": [{ "name", "model": "<model address>", "lambda": λ, "centroid": [numbers] }, …],
//     "calibration": { … what `weights calibrate` found, for the record } }
// Relative paths of local models (llamacpp:./x.gguf) are read from the router file's folder.

export const ROUTER_FORMAT = "alignbench-moe-router";
export const ROUTER_VERSION = 1;
export type MixMode = "top" | "mix";

const finite = z.number().refine(Number.isFinite, "must be a finite number");
const expert = z.strictObject({
  name: z.string().min(1, "must name the expert"),
  model: z.string().min(1, "must be a model address, e.g. llamacpp:./expert.gguf"),
  lambda: finite.refine((value) => value >= 0, "must be ≥ 0"),
  centroid: z.array(finite).min(1, "must hold the centroid's numbers"),
  examples: z.number().int().min(0).optional(),
});
const routerSchema = z.strictObject({
  format: z.literal(ROUTER_FORMAT, { message: `must be "${ROUTER_FORMAT}"` }),
  version: z.literal(ROUTER_VERSION, { message: `must be ${ROUTER_VERSION} (this alignbench reads version ${ROUTER_VERSION})` }),
  mode: z.enum(["top", "mix"], { message: 'must be "top" (route each prompt to one expert) or "mix" (mix next-token distributions)' }),
  embedding: z.string().min(1, "must be the embedding model's address, e.g. openai:text-embedding-3-small or llamacpp:./embed.gguf"),
  temperature: finite.refine((value) => value > 0, "must be > 0"),
  experts: z.array(expert).min(1, "must list at least one expert"),
  calibration: z.record(z.string(), z.unknown()).optional(),
});

export type RouterFile = z.infer<typeof routerSchema>;
export type RouterExpert = RouterFile["experts"][number];

/** Reads and checks a router file; any problem is an error naming the file and the field. */
export async function readRouterFile(file: string): Promise<RouterFile> {
  return (await readRouter(file)).router;
}

/** The router and the sha256 of its file's bytes as read (recorded with every answer, so a row names the router that made it). */
export async function readRouter(file: string): Promise<{ router: RouterFile; sha256: string }> {
  const text = await readTextFile(file, "router file");
  const sha256 = createHash("sha256").update(text).digest("hex");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message);
    const line = at ? text.slice(0, Number(at[1])).split("\n").length : undefined;
    throw new InputError(file, line, undefined, `not valid JSON (${(error as Error).message}); a router file is written by \`alignbench weights calibrate\``);
  }
  return { router: checkRouter(json, file), sha256 };
}

/** Checks a parsed router against the format (structure, then what the structure cannot say). */
export function checkRouter(json: unknown, file: string): RouterFile {
  const parsed = routerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join(".") : undefined;
    throw new InputError(file, undefined, field, issue.message);
  }
  const router = parsed.data;
  const dimensions = router.experts[0]!.centroid.length;
  const names = new Set<string>();
  router.experts.forEach((entry, index) => {
    if (entry.centroid.length !== dimensions) {
      throw new InputError(file, undefined, `experts.${index}.centroid`, `has ${entry.centroid.length} dimensions, expert 0's has ${dimensions}: every centroid comes from the same embedding model`);
    }
    if (names.has(entry.name)) throw new InputError(file, undefined, `experts.${index}.name`, `"${entry.name}" names two experts`);
    names.add(entry.name);
    if (entry.centroid.every((value) => value === 0)) throw new InputError(file, undefined, `experts.${index}.centroid`, "is all zeros: no direction to compare a prompt with");
  });
  if (router.experts.every((entry) => entry.lambda === 0)) throw new InputError(file, undefined, "experts", "every lambda is 0: at least one expert needs a calibration weight above 0");
  return router;
}

/** A model address from a router file, with a local model's relative path read from the file's folder. */
export function expertAddress(address: string, routerFile: string): string {
  const match = /^(llamacpp|gguf):(.*)$/.exec(address);
  if (!match || match[2]!.startsWith("hf:") || isAbsolute(match[2]!)) return address;
  return `${match[1]}:${resolve(dirname(routerFile), match[2]!)}`;
}

/** The router as JSON text, centroids rounded to float32 precision to keep the file small. */
export function routerText(router: RouterFile): string {
  const compact = { ...router, experts: router.experts.map((entry) => ({ ...entry, centroid: entry.centroid.map((value) => Number(Math.fround(value).toPrecision(8))) })) };
  const checked = checkRouter(compact, "router");
  return `${JSON.stringify(checked, null, 2)}\n`;
}

/** `moe:[top:|mix:]PATH`: the mode, when the address overrides the file's, and the file. */
export function parseMoeModelId(modelId: string): { mode?: MixMode; file: string } {
  const match = /^(top|mix):(.*)$/s.exec(modelId);
  const parsed = match ? { mode: match[1] as MixMode, file: match[2]! } : { file: modelId };
  if (!parsed.file.trim()) throw new UserError(`moe:${modelId}: no router file (write moe:router.json, moe:top:router.json or moe:mix:router.json)`);
  return parsed;
}
