import { appendFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * What some test groups need from outside the project, and why a group is skipped without it. A test file
 * asks with `needs(…)`; when something is missing the reason is appended to the file named by
 * $ALIGNBENCH_SKIP_REPORT, which scripts/run-tests.mjs prints after vitest beside the files whose tests were
 * skipped, so a skipped group is never silent.
 */
const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const REQUIREMENTS = {
  llama: {
    available: () => resolves("node-llama-cpp"),
    why: "node-llama-cpp is not installed (it is an optional dependency: `npm ci` installs it where its prebuilt binaries exist)",
  },
  shared: {
    available: () => existsSync(`${SHARED}datasets`) && existsSync(`${SHARED}bench/mock-llm.mjs`),
    why: "../shared (the real benchmark files and the shared mock) is not beside the project",
  },
  chromium: {
    available: () => chromiumPath() !== undefined,
    why: "Debian's chromium is not installed (`apt-get install -y chromium`, as .ci/run does)",
  },
  linux: {
    available: () => existsSync("/dev/full") && existsSync("/proc/version"),
    why: "not Linux: /dev/full and /proc, which give a real ENOSPC and EIO, are absent",
  },
  redis: {
    available: () => Boolean(process.env.ALIGNBENCH_TEST_REDIS_URL),
    why: "ALIGNBENCH_TEST_REDIS_URL is not set (.ci/run starts Debian's redis-server on a spare loopback port and sets it)",
  },
  git: {
    available: () => existsSync(new URL("../../.git", import.meta.url)),
    why: "the project is not a git checkout, so its files cannot be listed as a clone would have them",
  },
  compiler: {
    // CI sets ALIGNBENCH_REQUIRE_NATIVE=1 (.ci/run): there the native tests run, and fail without a compiler.
    available: () => process.env.ALIGNBENCH_REQUIRE_NATIVE === "1" || onPath(process.env.CC || "cc"),
    why: "no C compiler (cc) to build the dense-logits addon (`apt-get install -y gcc`, as .ci/run does)",
  },
} satisfies Record<string, { available: () => boolean; why: string }>;

function onPath(program: string): boolean {
  if (program.includes("/")) return existsSync(program);
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(`${dir}/${program}`));
}

export type Requirement = keyof typeof REQUIREMENTS;

export function chromiumPath(): string | undefined {
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));
}

function resolves(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

const known = new Map<Requirement, boolean>();

/** True when everything named is available; otherwise records, for the test run's summary, what is missing and why. */
export function needs(...requirements: Requirement[]): boolean {
  let all = true;
  for (const requirement of requirements) {
    let available = known.get(requirement);
    if (available === undefined) known.set(requirement, (available = REQUIREMENTS[requirement].available()));
    if (!available) {
      all = false;
      const report = process.env.ALIGNBENCH_SKIP_REPORT;
      if (report) appendFileSync(report, `${JSON.stringify({ requirement, why: REQUIREMENTS[requirement].why })}\n`);
    }
  }
  return all;
}
