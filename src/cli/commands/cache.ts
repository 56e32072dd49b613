import { existsSync } from "node:fs";
import { Command } from "commander";
import { defaultCacheFile, ResponseCache } from "../../runner/response-cache.js";
import { renderTable } from "../../reports/terminal-summary.js";
import { printJson, printOut } from "../output.js";

/** The cache file a command acts on: --file, else $ALIGNBENCH_RESPONSE_CACHE, else the default. */
function cacheFile(flags: { file?: string }): string {
  return flags.file ?? defaultCacheFile();
}

export function cacheCommand(): Command {
  const command = new Command("cache").description(
    "The response cache that `run --cache` reads and fills: model answers keyed by (model, messages, generation options, seed), shared by every run on this machine.",
  );
  command
    .command("stats")
    .description("How many answers the cache holds, per model, how often they were reused, and its size on disk.")
    .option("--file <path>", "the cache file (default $ALIGNBENCH_RESPONSE_CACHE or ~/.cache/alignbench/responses.sqlite)")
    .option("--json", "print the numbers as JSON")
    .action((flags: { file?: string; json?: boolean }) => {
      const file = cacheFile(flags);
      if (!existsSync(file)) {
        if (flags.json) printJson({ file, entries: 0, bytes: 0, hits: 0, models: [] });
        else printOut(`no response cache yet at ${file} (run with --cache to start one)\n`);
        return;
      }
      const cache = new ResponseCache(file);
      try {
        const stats = cache.stats();
        if (flags.json) return printJson(stats);
        printOut(`${file}: ${stats.entries} answer(s), reused ${stats.hits} time(s), ${(stats.bytes / 1e6).toFixed(2)} MB\n`);
        if (stats.models.length > 0)
          printOut(
            renderTable(
              ["model", "answers", "reused"],
              stats.models.map((entry) => [entry.model, String(entry.entries), String(entry.hits)]),
            ) + "\n",
          );
      } finally {
        cache.close();
      }
    });
  command
    .command("clear")
    .description("Remove every cached answer (or one model's): the next --cache run asks the models again.")
    .option("--file <path>", "the cache file (default $ALIGNBENCH_RESPONSE_CACHE or ~/.cache/alignbench/responses.sqlite)")
    .option("--model <address>", "remove only this model's answers (its address as the run named it)")
    .action((flags: { file?: string; model?: string }) => {
      const file = cacheFile(flags);
      if (!existsSync(file)) return void printOut(`no response cache at ${file}: nothing to clear\n`);
      const cache = new ResponseCache(file);
      try {
        const removed = cache.clear(flags.model);
        printOut(`removed ${removed} answer(s)${flags.model ? ` of ${flags.model}` : ""} from ${file}\n`);
      } finally {
        cache.close();
      }
    });
  return command;
}
