import { costOfEntries } from "../metrics/cost.js";
import type { ResolvedPrice } from "../metrics/prices.js";
import { UsageTally } from "../metrics/usage.js";
import type { ResultRow } from "../results/record.js";
import type { RunLog } from "../results/run-log.js";
import type { RunReporter } from "./reporter.js";

/**
 * `--max-cost`: the dollars this session's finished rows cost (every call behind each row, the scorers' too,
 * at the run's prices), and a signal raised once they reach the budget. Calls of a model without a price count
 * nothing: the run says so up front, so a budget is never silently ineffective.
 */
export class CostBudget {
  spent = 0;
  reached = false;
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  constructor(
    readonly limitUsd: number,
    readonly prices: Record<string, ResolvedPrice>,
  ) {}

  /** The dollars one row's calls cost. */
  rowCost(row: ResultRow): number {
    const tally = new UsageTally();
    tally.add(row);
    return costOfEntries(tally.build(), this.prices);
  }

  /** Wraps the work of one item so each finished row is priced, and the budget's signal raised when it is spent. */
  watch<T>(work: (item: T) => Promise<ResultRow | undefined>, log: RunLog, reporter: RunReporter): (item: T) => Promise<ResultRow | undefined> {
    return async (item) => {
      const row = await work(item);
      if (!row) return row;
      this.spent += this.rowCost(row);
      if (!this.reached && this.spent >= this.limitUsd) {
        this.reached = true;
        log.warn("max_cost_reached", { limit_usd: this.limitUsd, spent_usd: this.spent });
        reporter.onMessage?.(`--max-cost $${this.limitUsd} reached ($${this.spent.toFixed(4)} spent this session): finishing the items in flight, starting no more`);
        this.controller.abort();
      }
      return row;
    };
  }
}
