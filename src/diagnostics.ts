/**
 * A problem found in a file the user wrote, pinned to where it is.
 * Lines and columns are 1-based, as editors and GitHub annotations count them.
 */
export interface Diagnostic {
  path: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
}

/** A diagnostic for a whole file (or a problem that has no better place): line 1, column 1. */
export function fileDiagnostic(path: string, message: string): Diagnostic {
  return { path, line: 1, column: 1, endLine: 1, endColumn: 1, message };
}

/** `path:line:col: message`, the format compilers and editors understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.path}:${d.line}:${d.column}: ${d.message}`;
}

export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message),
  );
}
