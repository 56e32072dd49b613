/** Events a run reports as it goes; every hook is optional (the progress bar and the log are reporters). */
export interface RunReporter {
  onRunStart?(info: { runId: string; total: number; alreadyDone: number; folder: string }): void;
  onItemEnd?(info: { ok: boolean; errorType: string | null }): void;
  onRunEnd?(info: { interrupted: boolean }): void;
  onMessage?(message: string): void;
}
