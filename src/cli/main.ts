import { Command, CommanderError } from "commander";
import { isUserError } from "../errors.js";
import { VERSION } from "../version.js";
import { compareCommand } from "./commands/compare.js";
import { judgeEvalCommand } from "./commands/judge-eval.js";
import { personasCommand } from "./commands/personas.js";
import { suitesCommand } from "./commands/suites.js";
import { rejudgeCommand } from "./commands/rejudge.js";
import { reportCommand } from "./commands/report.js";
import { viewCommand } from "./commands/view.js";
import { runCommand } from "./commands/run.js";
import { driftCommand } from "./commands/drift.js";
import { weightsCommand } from "./commands/weights.js";
import { redteamCommand } from "./commands/redteam.js";
import { analyzeCommand } from "./commands/analyze.js";
import { cacheCommand } from "./commands/cache.js";
import { planCommand } from "./commands/plan.js";
import { datasetCommand } from "./commands/dataset.js";
import { misalignEvalCommand } from "./commands/misalign-eval.js";
import { workerCommand } from "./commands/worker.js";
import { collectCommand } from "./commands/collect.js";
import { statusCommand } from "./commands/status.js";
import { loadDotEnv } from "./env.js";
import { scrubTerminal } from "./terminal.js";
import { printErr, printOut } from "./output.js";

// Commander's own messages quote the arguments given (`unknown option '…'`): printed inert like the rest.
const OUTPUT = { writeOut: (text: string) => printOut(text), writeErr: (text: string) => printErr(text) };

/** The CLI. Returns the exit code (EXIT in errors.ts): 0 done, 1 a bug, 2 bad input or usage, 3 items still failed, 4 environment, 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  // `alignbench … | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  loadDotEnv();
  scrubTerminal();
  const exit = { code: 0 };
  const program = new Command("alignbench")
    .description("Measure how well language models are aligned — safe, honest, helpful, fair — with error bars and resumable runs.")
    .version(VERSION)
    .exitOverride()
    .configureOutput(OUTPUT)
    .showHelpAfterError("(add --help for usage)")
    .addCommand(runCommand(exit))
    .addCommand(driftCommand(exit))
    .addCommand(redteamCommand(exit))
    .addCommand(analyzeCommand(exit))
    .addCommand(workerCommand(exit))
    .addCommand(collectCommand(exit))
    .addCommand(statusCommand())
    .addCommand(rejudgeCommand(exit))
    .addCommand(compareCommand())
    .addCommand(reportCommand())
    .addCommand(viewCommand(exit))
    .addCommand(judgeEvalCommand(exit))
    .addCommand(misalignEvalCommand(exit))
    .addCommand(datasetCommand(exit))
    .addCommand(suitesCommand())
    .addCommand(personasCommand())
    .addCommand(weightsCommand())
    .addCommand(planCommand())
    .addCommand(cacheCommand());
  // Settings of the program are not inherited by commands added with addCommand.
  const override = (command: Command): void => {
    command.exitOverride().showHelpAfterError("(add --help for usage)").configureOutput(OUTPUT);
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
  try {
    await program.parseAsync(argv);
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version also end here, with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(error)) {
      // The message may quote a dataset, a model's answer or an HTTP error body: printed inert.
      printErr(`alignbench: ${error.message}\n`);
      return error.exitCode;
    }
    printErr(`alignbench: internal error — please report it with the run.log\n${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
