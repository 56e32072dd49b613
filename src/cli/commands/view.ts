import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { printOut } from "../output.js";
import { UserError } from "../../errors.js";
import { isLoopback, startViewer } from "../../viewer/server.js";

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError("must be a port number, 0-65535 (0: any free port)");
  return parsed;
}

export function viewCommand(exit: { code: number }): Command {
  return new Command("view")
    .description(
      "Serve a local, read-only web app over a results folder: a leaderboard of runs (headline numbers, true status), dashboards, an item table, item detail, comparisons, a metric across runs and live progress.",
    )
    .argument("[results]", "the results folder (holding run folders)", "results")
    .option("--port <n>", "port (0: any free port)", port, 8777)
    .option("--host <address>", "interface to listen on; anything but loopback requires the printed token on every request", "127.0.0.1")
    .action(async (results: string, flags: { port: number; host: string }) => {
      const root = resolve(results);
      if (!existsSync(root)) throw new UserError(`${root}: no such results folder`);
      let viewer;
      try {
        viewer = await startViewer({ root, host: flags.host, port: flags.port });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") throw new UserError(`port ${flags.port} is in use: pass --port N (or --port 0 for any free port)`);
        if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UserError(`cannot listen on ${flags.host}: no such interface`);
        throw error;
      }
      printOut(`alignbench viewer on ${viewer.url}\nserving ${root} (read-only); Ctrl-C stops it\n`);
      if (!isLoopback(flags.host)) printOut(`listening on ${flags.host}: every request needs the token in the URL above\n`);
      await new Promise<void>((done) => {
        const stop = () => void viewer.close().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      exit.code = 0;
    });
}
