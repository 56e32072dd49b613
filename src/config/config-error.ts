import { UserError } from "../errors.js";

/** A problem in a config or suite file, or in the flags: printed without a stack trace. */
export class ConfigError extends UserError {
  override readonly name = "ConfigError";
}
