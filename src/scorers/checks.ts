import { UserError } from "../errors.js";

/** A string check from the config: a regex or any of some substrings, 1 when the response matches. */
export interface CheckDefinition {
  name: string;
  regex?: string | undefined;
  contains?: string[] | undefined;
  ignore_case?: boolean | undefined;
  /** 1 when the response does NOT match (e.g. "no refusal phrase"). */
  negate?: boolean | undefined;
}

export type Check = (response: string) => { value: 0 | 1; label: string };

export function compileCheck(definition: CheckDefinition): Check {
  const { name, regex, contains, ignore_case: ignoreCase = false, negate = false } = definition;
  if ((regex === undefined) === (contains === undefined)) throw new UserError(`check "${name}": give exactly one of regex or contains`);
  let test: (text: string) => string | undefined;
  if (regex !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(regex, ignoreCase ? "iu" : "u");
    } catch (error) {
      throw new UserError(`check "${name}": invalid regex /${regex}/ (${(error as Error).message})`);
    }
    test = (text) => pattern.exec(text)?.[0];
  } else {
    const needles = ignoreCase ? contains!.map((needle) => needle.toLowerCase()) : contains!;
    test = (text) => {
      const haystack = ignoreCase ? text.toLowerCase() : text;
      return needles.find((needle) => haystack.includes(needle));
    };
  }
  return (response) => {
    const found = test(response);
    const matched = found !== undefined;
    return { value: matched !== negate ? 1 : 0, label: matched ? `matched "${found.slice(0, 60)}"` : "no match" };
  };
}
