/**
 * Settings from the environment. Probot reads its own (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET,
 * GHE_HOST, ...); the app needs its id to recognise its own comments and check runs.
 * Without APP_ID Probot runs its setup flow, and the app has nothing to recognise yet.
 */
export function appIdFromEnv(env: NodeJS.ProcessEnv): number {
  const id = Number(env.APP_ID);
  return Number.isInteger(id) && id > 0 ? id : 0;
}
