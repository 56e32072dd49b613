import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { UserError } from "../../src/errors.js";
import { runDeclarations, runSummaryOptions } from "../../src/metrics/declarations.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import { SUMMARY_SCHEMA_VERSION } from "../../src/metrics/summary-types.js";
import { compileCheck } from "../../src/results/fast-check.js";
import { MANIFEST_SCHEMA_VERSION, readManifest, type Manifest } from "../../src/results/manifest.js";
import { readPartialRows, readRowAt } from "../../src/results/partials-reader.js";
import { compactRow, RESULT_SCHEMA_VERSION, type ResultRow } from "../../src/results/record.js";
import { manifestSchema, resultRowSchema, resultRowV1Schema, runSummarySchema } from "../../src/results/record-schemas.js";
import { readSummary } from "../../src/results/summary-reader.js";
import { runCli } from "../helpers/cli.js";

const FIXTURE = new URL("../fixtures/run-0.1/results/run-0.1", import.meta.url);
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the 0.1 fixture's run folder, as results/run-0.1 under a temporary folder. */
function fixtureCopy(): { results: string; folder: string } {
  const results = mkdtempSync(join(tmpdir(), "alignbench-records-"));
  made.push(results);
  const folder = join(results, "run-0.1");
  cpSync(FIXTURE, folder, { recursive: true });
  return { results, folder };
}

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
const jsonLines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const writeLines = (file: string, rows: unknown[]) => writeFileSync(file, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");

async function readAll(file: string): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for await (const row of readPartialRows(file)) rows.push(row);
  return rows;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected it to fail");
}

/** A version 2 folder made from the fixture: rows upgraded (as stored: compacted), manifest of format 2, a summary of format 2. */
async function version2Copy(): Promise<{ results: string; folder: string; manifest: Manifest; rows: ResultRow[] }> {
  const { results, folder } = fixtureCopy();
  const rows = await readAll(join(folder, "partials.jsonl"));
  const stored = rows.map((row) => compactRow({ ...row, schema_version: RESULT_SCHEMA_VERSION }));
  writeLines(join(folder, "partials.jsonl"), stored);
  const old = (await readManifest(join(folder, "manifest.json")))!;
  const manifest: Manifest = {
    ...old,
    schema_version: MANIFEST_SCHEMA_VERSION,
    sessions: [...old.sessions, { kind: "rejudge", scoring: "strict", started_at: old.updated_at }, { kind: "judge-eval", started_at: old.updated_at }],
    scorer_declarations: runDeclarations(old),
    plan: "generate",
    dimensions: ["test", "persona", "model", "epoch"],
    roles: { judge: { address: "judge", provider: "openai", model_id: "judge", options: { temperature: 0 } } },
  };
  writeFileSync(join(folder, "manifest.json"), JSON.stringify(manifest, null, 2));
  const builder = new SummaryBuilder(runSummaryOptions(manifest));
  for (const row of rows) builder.add(row);
  writeFileSync(join(folder, "summary.json"), JSON.stringify(builder.build(manifest.run_id), null, 2));
  return { results, folder, manifest, rows };
}

describe("records written by 0.1 (format 1)", () => {
  it("the fixture's manifest and rows pass, and its summary is left to be rebuilt", async () => {
    const { folder } = fixtureCopy();
    const manifest = await readManifest(join(folder, "manifest.json"));
    expect(manifest?.schema_version).toBe(1);
    expect(manifestSchema.safeParse(readJson(join(folder, "manifest.json"))).success).toBe(true);
    for (const row of jsonLines(join(folder, "partials.jsonl"))) expect(resultRowV1Schema.safeParse(row).success).toBe(true);
    const rows = await readAll(join(folder, "partials.jsonl"));
    expect(rows).toHaveLength(16);
    expect(rows.every((row) => row.scores?.verdict !== undefined)).toBe(true);
    expect(readJson(join(folder, "summary.json")).schema_version).toBe(1);
    expect(readSummary(join(folder, "summary.json"))).toBeUndefined();
  });
});

describe("records of the current format (2)", () => {
  it("pass: manifest with declarations, plan, dimensions, roles and every session kind; compacted rows; the summary", async () => {
    const { folder, manifest, rows } = await version2Copy();
    expect(await readManifest(join(folder, "manifest.json"))).toEqual(manifest);
    for (const row of jsonLines(join(folder, "partials.jsonl"))) expect(resultRowSchema.safeParse(row).success).toBe(true);
    expect(await readAll(join(folder, "partials.jsonl"))).toEqual(rows.map((row) => ({ ...row, schema_version: RESULT_SCHEMA_VERSION })));
    const summary = readSummary(join(folder, "summary.json"));
    expect(summary?.schema_version).toBe(SUMMARY_SCHEMA_VERSION);
    expect(summary?.totals.n).toBe(16);
  });

  it("a field this build does not know is kept, not refused", async () => {
    const { folder } = await version2Copy();
    const rows = jsonLines(join(folder, "partials.jsonl"));
    rows[0]!.added_later = { x: 1 };
    writeLines(join(folder, "partials.jsonl"), rows);
    const manifest = readJson(join(folder, "manifest.json"));
    writeFileSync(join(folder, "manifest.json"), JSON.stringify({ ...manifest, added_later: true }));
    expect(((await readAll(join(folder, "partials.jsonl")))[0] as unknown as Record<string, unknown>).added_later).toEqual({ x: 1 });
    expect(((await readManifest(join(folder, "manifest.json"))) as unknown as Record<string, unknown>).added_later).toBe(true);
  });
});

describe("a damaged record names its file, line and field", () => {
  it("manifest.json: the field", async () => {
    const { folder } = fixtureCopy();
    const file = join(folder, "manifest.json");
    const manifest = readJson(file) as { models: Array<Record<string, unknown>> };
    manifest.models[0]!.address = 7;
    writeFileSync(file, JSON.stringify(manifest));
    const error = await failure(readManifest(file));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(new RegExp(`^${escape(file)}: models\\[0\\]\\.address: Invalid input: expected string, received number$`));
  });

  it("manifest.json that is not JSON", async () => {
    const { folder } = fixtureCopy();
    const file = join(folder, "manifest.json");
    writeFileSync(file, "{ not json");
    const error = await failure(readManifest(file));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain(`${file}: not valid JSON`);
  });

  it("partials.jsonl: line and field, for a version 1 row and a version 2 row; a line that is not JSON", async () => {
    const { folder } = fixtureCopy();
    const file = join(folder, "partials.jsonl");
    const rows = jsonLines(file);
    rows[2]!.attempt = "1";
    writeLines(file, rows);
    let error = await failure(readAll(file));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(`${file}:3: attempt: Invalid input: expected number, received string`);

    const v2 = await version2Copy();
    const v2File = join(v2.folder, "partials.jsonl");
    const v2Rows = jsonLines(v2File);
    (v2Rows[4]!.scores as Record<string, Record<string, unknown>>).verdict!.value = "high";
    writeLines(v2File, v2Rows);
    error = await failure(readAll(v2File));
    expect(error.message).toMatch(new RegExp(`^${escape(v2File)}:5: scores\\.verdict\\.value: `));

    writeFileSync(file, readFileSync(FIXTURE.pathname + "/partials.jsonl", "utf8").replace(/\n/, "\n{ torn\n"));
    error = await failure(readAll(file));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(new RegExp(`^${escape(file)}:2: not valid JSON`));
  });

  it("a torn last line (a row being written, or cut short by a kill) is skipped; a whole last line without a newline is read", async () => {
    const { folder } = fixtureCopy();
    const file = join(folder, "partials.jsonl");
    appendFileSync(file, '{"schema_version":2,"run_id":"run-0.1","key":"mini-0');
    expect(await readAll(file)).toHaveLength(16);
    const text = readFileSync(FIXTURE.pathname + "/partials.jsonl", "utf8");
    writeFileSync(file, text.trimEnd());
    expect(await readAll(file)).toHaveLength(16);
  });

  it("readRowAt (a retried key's previous row): the line of a damaged row", async () => {
    const { folder } = fixtureCopy();
    const file = join(folder, "partials.jsonl");
    const rows = jsonLines(file);
    rows[3]!.status = "fine";
    writeLines(file, rows);
    const offset = readFileSync(file, "utf8").split("\n").slice(0, 3).join("\n").length + 1;
    const error = (() => {
      try {
        readRowAt(file, offset);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("expected it to fail");
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(new RegExp(`^${escape(file)}:4: status: `));
    expect(readRowAt(file, 0)?.key).toBe(rows[0]!.key);
    expect(readRowAt(file, 5)).toBeUndefined();
  });

  it("summary.json: the field", async () => {
    const { folder } = await version2Copy();
    const file = join(folder, "summary.json");
    const summary = readJson(file) as { totals: Record<string, unknown> };
    summary.totals.n = null;
    writeFileSync(file, JSON.stringify(summary));
    expect(() => readSummary(file)).toThrow(`${file}: totals.n: Invalid input: expected number, received null`);
  });
});

describe("a folder written by a newer alignbench", () => {
  const newer = (name: string, version: number) => `${name} was written by a newer alignbench (record format ${version}; this version reads up to`;

  it("manifest, row and summary say so, with the upgrade to make", async () => {
    const { folder } = await version2Copy();
    const manifestFile = join(folder, "manifest.json");
    writeFileSync(manifestFile, JSON.stringify({ ...readJson(manifestFile), schema_version: MANIFEST_SCHEMA_VERSION + 1, models: "a new shape" }));
    const error = await failure(readManifest(manifestFile));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(`${newer(manifestFile, MANIFEST_SCHEMA_VERSION + 1)} ${MANIFEST_SCHEMA_VERSION}): upgrade alignbench to read it`);

    const partials = join(folder, "partials.jsonl");
    const rows = jsonLines(partials);
    rows[1] = { schema_version: RESULT_SCHEMA_VERSION + 1, something: "else" };
    writeLines(partials, rows);
    expect((await failure(readAll(partials))).message).toBe(`${newer(`${partials}:2`, RESULT_SCHEMA_VERSION + 1)} ${RESULT_SCHEMA_VERSION}): upgrade alignbench to read it`);

    const summaryFile = join(folder, "summary.json");
    writeFileSync(summaryFile, JSON.stringify({ schema_version: SUMMARY_SCHEMA_VERSION + 1 }));
    expect(() => readSummary(summaryFile)).toThrow(newer(summaryFile, SUMMARY_SCHEMA_VERSION + 1));
  });
});

describe("the CLI on a damaged or newer folder", () => {
  it("report exits 2 with the message and no stack trace", async () => {
    const { results, folder } = fixtureCopy();
    const partials = join(folder, "partials.jsonl");
    const rows = jsonLines(partials);
    rows[5]!.messages = "hello";
    writeLines(partials, rows);
    let out = await runCli(["report", folder, "--output", join(results, "report.html")]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${partials}:6: messages: Invalid input: expected array, received string`);
    expect(out.stderr).not.toMatch(/\n\s+at /);

    const manifestFile = join(folder, "manifest.json");
    writeFileSync(manifestFile, JSON.stringify({ ...readJson(manifestFile), schema_version: 99 }));
    out = await runCli(["report", "run-0.1", "--output-dir", results, "--output", join(results, "report.html")]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("manifest.json was written by a newer alignbench (record format 99; this version reads up to 2): upgrade alignbench to read it");
    expect(out.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe("the compiled row check agrees with zod", () => {
  // Every row the compiled check accepts, zod accepts (and the other way round): the fast path never lets
  // through what the schema refuses. Checked on valid records and on many single-field changes of them.
  const replacements: unknown[] = [
    null,
    undefined,
    0,
    -1,
    1.5,
    3,
    "",
    "x",
    "run",
    "error",
    "user",
    true,
    false,
    [],
    [1],
    ["x"],
    {},
    { a: 1 },
    { a: "x" },
    [{ role: "user", content: "x" }],
    { value: 1, label: null, raw: null, error: null },
    Number.NaN,
  ];

  function mutations(value: unknown, path: Array<string | number> = [], out: Array<{ path: Array<string | number>; replacement: unknown }> = []) {
    if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        const at = [...path, Array.isArray(value) ? Number(key) : key];
        for (const replacement of replacements) out.push({ path: at, replacement });
        mutations(child, at, out);
      }
    }
    return out;
  }
  function withChange(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
    const copy = structuredClone(value) as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (replacement === undefined && !Array.isArray(node)) delete node[last];
    else node[last] = replacement;
    return copy;
  }
  function agree(schema: z.ZodType, samples: unknown[]) {
    const check = compileCheck(schema);
    let compared = 0;
    for (const sample of samples) {
      for (const { path, replacement } of [{ path: [] as Array<string | number>, replacement: undefined }, ...mutations(sample)]) {
        const value = path.length === 0 ? sample : withChange(sample, path, replacement);
        const byZod = schema.safeParse(value).success;
        if (check(value) !== byZod) throw new Error(`disagree at ${path.join(".")} = ${JSON.stringify(replacement)}: zod ${byZod}`);
        compared++;
      }
    }
    return compared;
  }

  it("on rows of both versions, manifests and summaries", async () => {
    const v1 = fixtureCopy();
    const v2 = await version2Copy();
    expect(agree(resultRowV1Schema, jsonLines(join(v1.folder, "partials.jsonl")).slice(0, 4))).toBeGreaterThan(1000);
    expect(agree(resultRowSchema, jsonLines(join(v2.folder, "partials.jsonl")).slice(0, 4))).toBeGreaterThan(1000);
    expect(agree(manifestSchema, [readJson(join(v2.folder, "manifest.json")), readJson(join(v1.folder, "manifest.json"))])).toBeGreaterThan(1000);
    expect(agree(runSummarySchema, [readJson(join(v2.folder, "summary.json"))])).toBeGreaterThan(1000);
  }, 60_000);

  it("on every kind of schema part it compiles (and those it hands to zod)", () => {
    const schema = z.object({
      text: z.string(),
      flag: z.boolean(),
      nothing: z.null(),
      count: z.number().int().min(1),
      above: z.number().gt(0),
      kind: z.enum(["a", "b"]),
      exact: z.literal("x"),
      either: z.union([z.string(), z.number()]),
      maybe: z.string().optional(),
      orNull: z.boolean().nullable(),
      texts: z.array(z.string()),
      pair: z.tuple([z.string(), z.boolean()]),
      atLeastOne: z.tuple([z.string()], z.null()),
      byName: z.record(z.string(), z.boolean()),
      nested: z.object({ inner: z.array(z.object({ name: z.string() })) }),
      strict: z.strictObject({ a: z.string() }),
      pattern: z.string().regex(/^p/),
      shortList: z.array(z.string()).max(2),
      column: z.templateLiteral(["metrics.", z.string()]),
      anything: z.unknown(),
    });
    const sample = {
      text: "t",
      flag: true,
      nothing: null,
      count: 2,
      above: 0.5,
      kind: "a",
      exact: "x",
      either: 3,
      maybe: "m",
      orNull: null,
      texts: ["a", "b"],
      pair: ["p", false],
      atLeastOne: ["a", null, null],
      byName: { a: true, b: false },
      nested: { inner: [{ name: "n" }] },
      strict: { a: "s" },
      pattern: "pq",
      shortList: ["a"],
      column: "metrics.x",
      anything: { z: 1 },
    };
    expect(agree(schema, [sample])).toBeGreaterThan(500);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
