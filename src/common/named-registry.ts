import { UserError } from "../errors.js";
import { nearest } from "../config/suggest.js";

/**
 * Things known by name (record formats, suite metrics, plans): the built-in ones and those registered
 * later, and the one error for a name it does not know, with the nearest name and the list.
 */
export class NamedRegistry<T> {
  private readonly byName: Map<string, T>;

  /** `kind` and `kinds` name the things in errors: "record format", "record formats". */
  constructor(
    private readonly kind: string,
    private readonly kinds: string,
    private readonly nameOf: (item: T) => string,
    builtin: readonly T[],
  ) {
    this.byName = new Map(builtin.map((item) => [nameOf(item), item]));
  }

  /** Adds (or replaces) one by its name. */
  register(item: T): void {
    this.byName.set(this.nameOf(item), item);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The one of this name, or a UserError naming the nearest name and every known one. */
  named(name: string): T {
    const item = this.byName.get(name);
    if (item) return item;
    const known = this.names();
    const near = nearest(name, known);
    throw new UserError(`unknown ${this.kind} "${name}"${near ? ` (did you mean "${near}"?)` : ""}; ${this.kinds}: ${known.length > 0 ? known.join(", ") : "(none registered)"}`);
  }
}
