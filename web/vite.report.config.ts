import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The report's script and styles, as one IIFE file and one CSS file that `alignbench report` inlines into a
// self-contained HTML page (no network, opens from disk).
export default defineConfig({
  logLevel: "warn",
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    chunkSizeWarningLimit: 1500,
    outDir: fileURLToPath(new URL("../dist/web/report", import.meta.url)),
    emptyOutDir: true,
    cssCodeSplit: false,
    lib: { entry: fileURLToPath(new URL("report/main.ts", import.meta.url)), formats: ["iife"], name: "AlignbenchReport", fileName: () => "report.js", cssFileName: "report" },
  },
});
