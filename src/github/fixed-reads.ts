/**
 * Reads whose answer is fixed by the commits they name: a file at a commit, and a pull request's
 * files and commits while its head and the default branch stay where they are. Kept per process
 * (most recently used last, bounded), so a redelivery, the next review of the same head, or the
 * merged request's evaluation in the approving turn does not read them again. Like the judging
 * files (decision 0019), an entry can never be stale: a push or a moved default branch names other
 * commits, hence another key. A read that fails is not kept.
 *
 * Keys name the repository by id and every commit the answer depends on; nothing here is keyed by
 * a blob alone (a symlink and a regular file can share a blob, and only the read at a path and
 * commit tells them apart).
 */
const kept = new Map<string, Promise<unknown>>();
const MAX_ENTRIES = 2_000;

export function fixedRead<T>(key: string | undefined, read: () => Promise<T>): Promise<T> {
  if (key === undefined) return read();
  const known = kept.get(key) as Promise<T> | undefined;
  if (known) {
    kept.delete(key);
    kept.set(key, known);
    return known;
  }
  const reading = read();
  if (kept.size >= MAX_ENTRIES) kept.delete(kept.keys().next().value!);
  kept.set(key, reading);
  reading.catch(() => {
    if (kept.get(key) === reading) kept.delete(key);
  });
  return reading;
}

/** Forgets everything (tests start from an empty process). */
export function resetFixedReads(): void {
  kept.clear();
}
