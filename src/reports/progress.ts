import type { RunReporter } from "../runner/reporter.js";
import { inertLine, inertText } from "../common/inert-text.js";

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * A progress bar with rate and ETA on a terminal; a plain line every `intervalMs` elsewhere (CI logs),
 * so long runs show they are alive without flooding the log.
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr, options: { tty?: boolean; intervalMs?: number } = {}): RunReporter {
  const tty = options.tty ?? (Boolean(stream.isTTY) && process.env.CI !== "true");
  const intervalMs = options.intervalMs ?? (tty ? 100 : 5000);
  let total = 0;
  let done = 0;
  let errors = 0;
  let sessionDone = 0;
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const line = () => {
    const elapsed = (performance.now() - startedAt) / 1000;
    const rate = elapsed > 0 ? sessionDone / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    const fraction = total > 0 ? done / total : 1;
    const stats = `${done}/${total} ${(fraction * 100).toFixed(1)}% · ${rate.toFixed(1)} items/s · ETA ${formatDuration(eta)} · errors ${errors}`;
    if (!tty) return `progress ${stats}`;
    const width = 24;
    const filled = Math.round(fraction * width);
    return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${stats}`;
  };
  const draw = () => {
    if (tty) stream.write(`\r${line()}\x1b[K`);
    else stream.write(line() + "\n");
  };

  return {
    onRunStart(info) {
      total = info.total;
      done = info.alreadyDone;
      startedAt = performance.now();
      stream.write(`run ${inertLine(info.runId)} → ${inertLine(info.folder)}: ${info.total} work items${info.alreadyDone ? `, ${info.alreadyDone} already done` : ""}\n`);
      timer = setInterval(draw, intervalMs);
      timer.unref();
    },
    onItemEnd(info) {
      if (info.ok) {
        done++;
        sessionDone++;
      } else {
        errors++;
      }
    },
    onRunEnd(info) {
      if (timer) clearInterval(timer);
      draw();
      if (tty) stream.write("\n");
      if (info.interrupted) stream.write("interrupted: finished items are saved; run again with the same --run-id to resume\n");
    },
    onMessage(message) {
      // Messages may quote a dataset row or a model's error; only the erase-line before them is alignbench's.
      stream.write((tty ? "\r\x1b[K" : "") + inertText(message) + "\n");
    },
  };
}

/** Download progress: a live line on a terminal, a line every few seconds elsewhere, and one at the end. */
export function downloadProgressPrinter(stream: NodeJS.WriteStream = process.stderr): (progress: { file: string; receivedBytes: number; totalBytes: number | undefined; resumedFrom: number }) => void {
  const tty = Boolean(stream.isTTY) && process.env.CI !== "true";
  let lastPrinted = 0;
  let startedAt = 0;
  const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
  return (progress) => {
    const now = performance.now();
    if (startedAt === 0) {
      startedAt = now;
      stream.write(`downloading ${inertLine(progress.file)}${progress.resumedFrom ? ` (resuming at ${megabytes(progress.resumedFrom)} MB)` : ""}\n`);
    }
    const done = progress.totalBytes !== undefined && progress.receivedBytes >= progress.totalBytes;
    if (!done && now - lastPrinted < (tty ? 200 : 5000)) return;
    lastPrinted = now;
    const rate = (progress.receivedBytes - progress.resumedFrom) / Math.max(0.001, (now - startedAt) / 1000);
    const total = progress.totalBytes ? ` / ${megabytes(progress.totalBytes)} MB (${((100 * progress.receivedBytes) / progress.totalBytes).toFixed(1)}%)` : " MB";
    const line = `  ${megabytes(progress.receivedBytes)}${total} · ${megabytes(rate)} MB/s`;
    if (tty) stream.write(`\r${line}\x1b[K${done ? "\n" : ""}`);
    else stream.write(line + "\n");
  };
}
