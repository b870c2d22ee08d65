import { createContext, Script } from "node:vm";
import safeRegex from "safe-regex2";

/**
 * `ticket_pattern` is a regular expression from the policy, matched against a ticket from the
 * requester. V8's engine backtracks, so a pattern like `(a+)+` can take exponential time on a
 * crafted ticket and stall the whole app. Two bounds, each enough on its own for what it sees:
 *
 * 1. At policy load, safe-regex2 refuses patterns with nested repetition (star height above one)
 *    or more than 25 repetitions: the usual catastrophic shapes, reported at the pattern's line.
 * 2. Every match runs under a hard time limit. safe-regex2 is a structural check and cannot see
 *    everything (overlapping alternatives under one star, `(\w|\d)*`; long chains like
 *    `\d+\d+\d+\d+`), so a match that is still running after MATCH_BUDGET_MS is stopped and the
 *    ticket refused: fail closed, and never more than that per evaluation. Tickets are at most 200
 *    characters (grant schema), so an honest match takes microseconds.
 */
export const MATCH_BUDGET_MS = 100;

/** Why a ticket_pattern is refused (without the field's name), or undefined when it is accepted. */
export function ticketPatternProblem(source: string): string | undefined {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, "u");
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
  if (!safeRegex(pattern)) {
    return "could take exponential time on some tickets (a repeated group that itself repeats, such as (a+)+, or more than 25 repetitions); rewrite it without nested repetition";
  }
  return undefined;
}

// node:vm is used for its timeout, not as a sandbox: the pattern is a RegExp compiled here, and V8
// interrupts a running match (backtracking included) when the watchdog fires.
const context = createContext(Object.create(null));
const test = new Script("pattern.test(text)", { filename: "ticket-pattern-match" });

/** Whether `text` matches; undefined when the match did not finish within the budget. */
export function matchWithin(pattern: RegExp, text: string, budgetMs = MATCH_BUDGET_MS): boolean | undefined {
  context.pattern = pattern;
  context.text = text;
  try {
    return test.runInContext(context, { timeout: budgetMs }) === true;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") return undefined;
    throw error;
  } finally {
    context.pattern = undefined;
    context.text = undefined;
  }
}
