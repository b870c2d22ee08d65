import { announcements } from "../lifecycle/announce.js";
import type { GrantRecord } from "../lifecycle/record.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import type { Notifier } from "../notify/deliver.js";
import type { Notification } from "../notify/message.js";
import { notificationOf } from "../present/notification.js";
import type { GitHub } from "./client.js";

/**
 * Once-only notifications: the events a record deserves are recorded in it before they are sent,
 * so each goes out once. An event this evaluation already wrote (`written`), or another replica
 * recorded since the snapshot (`fresh`, re-read first), is dropped. Only events with a destination
 * for the resource count.
 */
export async function recordAnnouncements(
  s: RequestSnapshot,
  record: GrantRecord,
  written: GrantRecord | undefined,
  fresh: () => Promise<GrantRecord | undefined>,
  notifier: Notifier | undefined,
): Promise<{ record: GrantRecord; announced: Notification[] }> {
  if (!notifier) return { record, announced: [] };
  // What this evaluation already wrote (the warning is recorded before it is posted) stays recorded.
  const already = written?.notified ?? [];
  const next: GrantRecord = already.every((e) => record.notified?.includes(e)) ? record : { ...record, notified: [...new Set([...(record.notified ?? []), ...already])] };
  let events = announcements(s.record, next).filter((e) => {
    const d = notificationOf(s, next, e).destinations;
    return d.slackEnv !== undefined || d.teamsEnv !== undefined;
  });
  if (events.length === 0) return { record: next, announced: [] };
  const now = await fresh();
  events = events.filter((e) => !now?.notified?.includes(e));
  const state: GrantRecord = { ...next, notified: [...new Set([...(next.notified ?? []), ...(now?.notified ?? []), ...events])] };
  return { record: state, announced: events.map((e) => notificationOf(s, state, e)) };
}

/** A destination that keeps failing is said on the PR, once per destination (marked, so it is found again). */
export function reportDeliveryFailure(gh: GitHub, s: RequestSnapshot) {
  return async (n: Notification, destination: string, reason: string) => {
    const marker = `<!-- jit-access:notify-failed ${destination} -->`;
    const ref = { owner: s.owner, repo: s.repo, issue_number: s.pr.number };
    const comments = await gh.paginate(gh.rest.issues.listComments, { ...ref, per_page: 100 });
    if (comments.some((c) => c.performed_via_github_app && (c.body ?? "").includes(marker))) return;
    await gh.rest.issues.createComment({ ...ref, body: `${marker}\n⚠️ jit-access could not deliver the "${n.event}" notification to ${destination}: ${reason}. Notifications of this request to that destination may be missing; check the webhook and the environment variable.` });
  };
}
