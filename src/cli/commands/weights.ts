import { Command } from "commander";
import { weightsDiffCommand } from "./weights-diff.js";
import { weightsMergeCommand } from "./weights-merge.js";
import { weightsCalibrateCommand } from "./weights-calibrate.js";

// `alignbench weights <subcommand>`: tools over checkpoints' weights. Each subcommand is its own file; a new
// one is one import and one entry in this table.
const SUBCOMMANDS: Array<() => Command> = [weightsDiffCommand, weightsMergeCommand, () => weightsCalibrateCommand("calibrate")];

export function weightsCommand(): Command {
  const command = new Command("weights").description(
    "Task vectors and merging over safetensors (single or sharded) and unquantized GGUF checkpoints: `weights diff` measures what fine-tuning changed, `weights merge` adds task vectors to a base, `weights calibrate` fits a `moe:` router.",
  );
  for (const make of SUBCOMMANDS) command.addCommand(make());
  return command;
}
