// Throughput and peak memory of `alignbench weights diff` and `weights merge` against `cat` of the same files,
// measured in the same run. The script writes a base/fine-tuned safetensors pair (MB megabytes each; 512 by
// default, a ~1 GB pair) in F32 and in BF16, reads every file once so all sit in the page cache, then times
// each command (a child process under /usr/bin/time: wall time and peak RSS) three times and keeps the median:
//   cat base ft > /dev/null                      the read limit (diff reads the same bytes)
//   diff --base base --finetuned ft               statistics only
//   diff … --save tv.safetensors                 statistics and the F32 task vector written
//   cat base ft > copy                           a read-and-write limit for merge
//   merge --base base --vector ft:0.5 --out …    base + 0.5·(the second file), written in the base's type
// each with the C kernels (src/weights/native) and again in JavaScript (ALIGNBENCH_NATIVE=0, rows marked JS).
// Throughput is input bytes / wall time; CPU time (user + system) is printed beside it, as a busy machine
// stretches wall time. Run twice with different sizes to see peak RSS stay flat.
// Usage (after npm run build): node bench/weights.mjs [MB=512] [DTYPES=F32,BF16]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeChunk } from "../dist/weights/dtypes.js";
import { buildWeightKernels } from "../dist/weights/kernels.js";
import { SafetensorsWriter } from "../dist/weights/safetensors.js";

const megabytes = Number(process.argv[2] ?? 512);
const dtypes = (process.argv[3] ?? "F32,BF16").split(",");
const BIN = fileURLToPath(new URL("../bin/alignbench.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "alignbench-weights-bench-"));
const TENSOR = 1 << 22; // 4M elements a tensor, like a 2048 × 2048 projection

/** A checkpoint of ≈ `megabytes` MB: layers of 4M-element tensors, values from a seeded xorshift (+ a small shift for the fine-tuned copy). */
function write(file, dtype, shift) {
  const size = dtype === "F32" ? 4 : 2;
  const count = Math.max(1, Math.round((megabytes * 1e6) / (TENSOR * size)));
  const layouts = Array.from({ length: count }, (_, i) => ({ name: `model.layers.${i}.mlp.weight`, dtype, shape: [2048, 2048] }));
  const writer = new SafetensorsWriter(file, layouts, { format: "pt" });
  const values = new Float64Array(TENSOR);
  const bytes = new ArrayBuffer(TENSOR * 4);
  let state = 0x9e3779b9;
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < TENSOR; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      values[i] = ((state >>> 0) / 4294967296 - 0.5) * 0.1 + (shift && i % 3 === 0 ? shift * ((state & 0xff) / 255 - 0.5) : 0);
    }
    encodeChunk(dtype, values, TENSOR, bytes);
    writer.write(new Uint8Array(bytes, 0, TENSOR * size));
  }
  writer.close();
  return file;
}

/** Median wall time (of three runs) and the largest peak RSS of a shell command line, from GNU time. */
function run(line) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const child = spawnSync("/usr/bin/time", ["-f", "TIME %e %M %U %S", "sh", "-c", line], { encoding: "utf8" });
    if (child.status !== 0) throw new Error(`${line}: exit ${child.status}\n${child.stderr}`);
    const [, seconds, rss, user, system] = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(child.stderr);
    runs.push({ seconds: Number(seconds), rssMb: Number(rss) / 1024, cpu: Number(user) + Number(system) });
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return { seconds: runs[1].seconds, cpu: runs[1].cpu, rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

// The C kernels, compiled now (not inside a timed run); the commands are timed with them and, marked (JS),
// without them (ALIGNBENCH_NATIVE=0), in the same run.
const built = await buildWeightKernels();
const kernels = "path" in built;
if (!kernels) console.log(`the weight kernels are not available (${built.unavailable}): JavaScript only`);

const quote = (path) => `'${path.replace(/'/g, "'\\''")}'`;
const node = quote(process.execPath);
const cli = `${node} ${quote(BIN)}`;
try {
  for (const dtype of dtypes) {
    const base = write(join(work, `base-${dtype}.safetensors`), dtype, 0);
    const ft = write(join(work, `ft-${dtype}.safetensors`), dtype, 0.01);
    const bytes = statSync(base).size + statSync(ft).size;
    const gb = bytes / 1e9;
    const files = `${quote(base)} ${quote(ft)}`;
    run(`cat ${files} > /dev/null`); // into the page cache
    const commands = (env) => [
      [`weights diff${env ? " (JS)" : ""}`, run(`${env}${cli} weights diff --base ${quote(base)} --finetuned ${quote(ft)} --json --no-progress > /dev/null`)],
      [
        `weights diff --save${env ? " (JS)" : ""}`,
        run(`${env}${cli} weights diff --base ${quote(base)} --finetuned ${quote(ft)} --save ${quote(join(work, "tv.safetensors"))} --json --no-progress > /dev/null`),
      ],
      [
        `weights merge${env ? " (JS)" : ""}`,
        run(`${env}${cli} weights merge --base ${quote(base)} --vector ${quote(ft)}:0.5 --out ${quote(join(work, "merged.safetensors"))} --no-progress > /dev/null`),
      ],
    ];
    const rows = [
      ["cat base ft > /dev/null", run(`cat ${files} > /dev/null`)],
      ["cat base ft > copy", run(`cat ${files} > ${quote(join(work, "copy"))}`)],
      // The CLI's start-up alone (every command loads it), to read the rows below net of it.
      ["CLI start-up (--help)", run(`${cli} weights diff --help > /dev/null`)],
      ...(kernels ? commands("") : []),
      ...commands("ALIGNBENCH_NATIVE=0 "),
    ];
    rmSync(join(work, "copy"), { force: true });
    const [catRead, catCopy] = rows.map(([, r]) => gb / r.seconds);
    console.log(
      `load average after the runs: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} on ${cpus().length} CPUs`,
    );
    console.log(`\n${dtype}: a pair of ${(bytes / 2e9).toFixed(2)} GB files (${gb.toFixed(2)} GB read per command), median of 3`);
    const startup = rows.find(([name]) => name.startsWith("CLI"))[1].seconds;
    for (const [name, r] of rows) {
      const rate = gb / r.seconds;
      const peer = name.startsWith("weights merge") ? catCopy : catRead;
      const peerName = name.startsWith("weights merge") ? "cat > copy" : "cat > /dev/null";
      // Net of start-up: the same ratio with the CLI's start-up time taken off the command's wall time.
      const net = r.seconds > startup ? ` (${((100 * gb) / (r.seconds - startup) / peer).toFixed(0)}% net of start-up)` : "";
      const ratio = name.startsWith("cat") || name.startsWith("CLI") ? "" : `  ${((100 * rate) / peer).toFixed(0)}% of ${peerName}${net}`;
      const rateText = name.startsWith("CLI") ? "     -" : rate.toFixed(2).padStart(5);
      console.log(`  ${name.padEnd(24)} ${r.seconds.toFixed(2).padStart(6)} s  ${rateText} GB/s  CPU ${r.cpu.toFixed(2).padStart(5)} s  peak RSS ${r.rssMb.toFixed(0).padStart(4)} MB${ratio}`);
    }
    rmSync(base);
    rmSync(ft);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
