import { RE2JS } from "re2js";

/**
 * `ticket_pattern` is a regular expression from the policy, matched against a ticket from the
 * requester. V8's own engine backtracks, so a pattern like `(a+)+` could take exponential time on
 * a crafted ticket and stall the whole app. Patterns are therefore compiled and matched by re2js,
 * a pure-JavaScript port of RE2: matching takes time linear in the ticket for every pattern, so no
 * pattern needs refusing for its shape and no match needs a time limit.
 *
 * RE2 has no lookarounds and no backreferences (they are what makes backtracking necessary): a
 * pattern that uses them is refused at policy load, saying which one and why.
 */
export interface TicketPattern {
  /** The pattern as the policy wrote it (shown in messages). */
  readonly source: string;
  /** Whether the pattern matches somewhere in `text`, like RegExp.prototype.test. */
  test(text: string): boolean;
}

/**
 * Compiled patterns by source. A policy usually repeats one pattern over many roles, and each is
 * compiled twice (checked, then used): compiling is ~0.05–0.1 ms in re2js, so a 600-role policy
 * would spend 60–120 ms on it uncached. Compiled patterns are immutable; the bound keeps a stream
 * of policies from growing the map without end.
 */
const compiled = new Map<string, RE2JS>();
const MAX_CACHED = 1_000;

function re2(source: string): RE2JS {
  let re = compiled.get(source);
  if (re === undefined) {
    re = RE2JS.compile(source);
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

/** The pattern, compiled; call only with a source that ticketPatternProblem accepted. */
export function compileTicketPattern(source: string): TicketPattern {
  const re = re2(source);
  return { source, test: (text) => re.matcher(text).find() };
}

const UNSUPPORTED = "ticket patterns are matched by RE2, in time linear in the ticket, which has no lookarounds or backreferences; rewrite it without";

/** Why a ticket_pattern is refused (without the field's name), or undefined when it is accepted. */
export function ticketPatternProblem(source: string): string | undefined {
  const unsupported = unsupportedSyntax(source);
  if (unsupported) return `uses ${unsupported}: ${UNSUPPORTED}`;
  try {
    re2(source);
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message.replace(/^error parsing regexp: /, "")}`;
  }
  return undefined;
}

/**
 * The first lookaround or backreference outside a character class, named for the message; RE2's
 * own error for them ("invalid or unsupported Perl syntax", "invalid escape sequence") does not
 * say that the feature, not the spelling, is the problem.
 */
function unsupportedSyntax(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(next)) return `a backreference (\\${next})`;
      if (!inClass && next === "k" && source[i + 2] === "<") return "a named backreference (\\k<…>)";
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
      if (source[i + 1] === "^") i++;
      if (source[i + 1] === "]") i++; // a leading ] is a literal
    } else if (c === "(" && source[i + 1] === "?") {
      const ahead = source.slice(i + 2, i + 4);
      if (ahead.startsWith("=")) return "a lookahead ((?=…))";
      if (ahead.startsWith("!")) return "a negative lookahead ((?!…))";
      if (ahead === "<=") return "a lookbehind ((?<=…))";
      if (ahead === "<!") return "a negative lookbehind ((?<!…))";
    }
  }
  return undefined;
}
