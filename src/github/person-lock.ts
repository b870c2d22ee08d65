/**
 * Reference counting reads the person's other grants and their access at the target, then applies
 * or revokes: those steps must not interleave with another grant of the same person doing the same
 * (PRODUCT.md §6). Requests are evaluated one at a time each, but two requests of one person run in
 * parallel — one starting as the other expires, say — and one's read of "held" could then see the
 * other's unit while its record no longer counts it as live, and keep that unit for good as
 * "standing". So applies and revokes take turns per person and repository, in this process (across
 * replicas that is the shared lock of §9).
 */
const tails = new Map<string, Promise<void>>();

export function personKey(ref: { owner: string; repo: string }, requester: string): string {
  return `${ref.owner}/${ref.repo}:${requester}`.toLowerCase();
}

/** Runs `work` when no other work for `key` runs; in the order asked. */
export async function exclusively<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  tails.set(key, tail);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
