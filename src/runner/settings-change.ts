import type { Manifest } from "../results/manifest.js";
import { diffPins, pinDifferenceLines } from "../results/pins.js";
import type { RunLog } from "../results/run-log.js";
import type { RunReporter } from "./reporter.js";

/**
 * A resume whose pinned settings differ from the session before (another temperature, judge prompt, model
 * file…): the rows already done keep what produced them, so the run would mix two setups. Said on the
 * terminal and in run.log, each difference named; the manifest then pins the new settings.
 */
export function warnChangedSettings(previous: Manifest | undefined, manifest: Manifest, log: RunLog, reporter: RunReporter): void {
  if (!previous?.pins || !manifest.pins) return;
  const differences = diffPins(previous.pins, manifest.pins);
  if (differences.length === 0) return;
  log.warn("settings_changed", { differences });
  const lines = pinDifferenceLines({ comparable: true, differences, unpinned: [] });
  reporter.onMessage?.(
    `warning: resuming with ${differences.length} setting(s) changed since the last session; the rows already done keep the old ones (start a new --run-id to keep one setup):\n${lines
      .slice(0, 20)
      .map((line) => `  ${line}`)
      .join("\n")}`,
  );
}
