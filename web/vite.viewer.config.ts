import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The local viewer's single-page app, served by `alignbench view` from dist/web/viewer.
export default defineConfig({
  logLevel: "warn",
  root: fileURLToPath(new URL("viewer", import.meta.url)),
  base: "./",
  build: {
    chunkSizeWarningLimit: 1500,
    outDir: fileURLToPath(new URL("../dist/web/viewer", import.meta.url)),
    emptyOutDir: true,
  },
});
