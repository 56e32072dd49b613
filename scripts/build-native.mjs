// Compiles alignbench's addons into the cache folder now, instead of at first use, and says where they went or
// exactly why they cannot be built: the weight tools' kernels (src/weights/native/weights-kernels.c, needs only a
// C compiler) and the dense-logits addon (src/providers/llamacpp/native/dense-logits.c, at the first Fidelity Loss row).
// Run after `npm run build`, where node-llama-cpp is installed. `--force` compiles again even when cached.
// Exit status 1 when the addon cannot be built here (Fidelity Loss then takes the slower exact path).
import { existsSync } from "node:fs";

if (!existsSync(new URL("../dist/providers/llamacpp/native-build.js", import.meta.url))) {
  console.error("build-native: dist/ is missing: run `npm run build` first");
  process.exit(1);
}
// The weight kernels first: they need no llama.cpp, so a machine where node-llama-cpp cannot start still gets them.
const { buildWeightKernels } = await import("../dist/weights/kernels.js");
const weightsStarted = performance.now();
const weights = await buildWeightKernels({ force: process.argv.includes("--force") });
if ("unavailable" in weights) {
  console.error(`build-native: the weight kernels cannot be built here: ${weights.unavailable}`);
  process.exit(1);
}
const { createRequire } = await import("node:module");
if (typeof createRequire(import.meta.url)(weights.path).chunkSums !== "function") {
  console.error(`build-native: ${weights.path} loads but is not the weight kernels addon`);
  process.exit(1);
}
console.log(`build-native: weight kernels ${weights.built ? `compiled in ${((performance.now() - weightsStarted) / 1000).toFixed(1)} s` : "already in the cache"}: ${weights.path}`);
const { llamaRuntime } = await import("../dist/providers/llamacpp/library.js");
const { buildNativeAddon, nativeCacheDir } = await import("../dist/providers/llamacpp/native-build.js");
// The addon links to the llama.cpp library node-llama-cpp loads: start it first, as a run does.
try {
  await llamaRuntime(false);
} catch (error) {
  console.error(`build-native: node-llama-cpp cannot start here, so there is no llama.cpp library to build against: ${error.message}`);
  process.exit(1);
}
const started = performance.now();
const build = await buildNativeAddon({ force: process.argv.includes("--force") });
if ("unavailable" in build) {
  console.error(`build-native: the dense-logits addon cannot be built here: ${build.unavailable}`);
  process.exit(1);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`build-native: dense-logits addon ${build.built ? `compiled in ${seconds} s` : "already in the cache"}: ${build.path}`);
// Load it once, so a library mismatch shows here rather than at the first row.
const addon = createRequire(import.meta.url)(build.path);
if (typeof addon.evaluate !== "function") {
  console.error(`build-native: ${build.path} loads but is not the dense-logits addon`);
  process.exit(1);
}
console.log(`build-native: cache folder ${nativeCacheDir()} (ALIGNBENCH_NATIVE_DIR moves it; ALIGNBENCH_NATIVE=0 turns the addons off)`);
process.exit(0);
