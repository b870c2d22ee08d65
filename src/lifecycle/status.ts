import type { StateStatus } from "./record.js";

/** The statuses and their labels (docs: statuses): a public contract, one label at a time. */
export const STATUS_LABELS = {
  PENDING: "jit:pending",
  APPROVED: "jit:approved",
  REJECTED: "jit:rejected",
  REVOKED: "jit:revoked",
  EXECUTED: "jit:expired",
} as const;

export type Status = keyof typeof STATUS_LABELS;
export type StatusLabel = (typeof STATUS_LABELS)[Status];

export const ALL_STATUS_LABELS: readonly string[] = Object.values(STATUS_LABELS);

export const CHECK_NAME = "jit-access";

/** Labels to add and remove so that exactly `wanted` (or no jit label, when null) remains. */
export function labelChanges(current: readonly string[], wanted: StatusLabel | null): { add: string[]; remove: string[] } {
  const remove = current.filter((l) => ALL_STATUS_LABELS.includes(l) && l !== wanted);
  const add = wanted && !current.includes(wanted) ? [wanted] : [];
  return { add, remove };
}

/** The label a recorded status shows: the internal steps of an approved grant show as pending. */
export function labelOf(status: StateStatus): StatusLabel {
  return status === "SCHEDULED" || status === "APPLYING" ? STATUS_LABELS.PENDING : STATUS_LABELS[status as Status];
}
