/**
 * Endpoint health as settle keeps it, shared by every backend: per subscription, what a batch of
 * attempts says — whether one succeeded, and whether one failed after the last success. The
 * backend then sets `last_success_at` (a success) and `first_failure_at` (cleared by a success
 * with no failure after it; set by a failure unless already set).
 */
export interface HealthMark {
  success: boolean;
  failedAfter: boolean;
}

/** Records one attempt's result, in the order the batch applies them. */
export function markHealth(marks: Map<string, HealthMark>, subscriptionId: string, delivered: boolean): void {
  const mark = marks.get(subscriptionId) ?? { success: false, failedAfter: false };
  if (delivered) {
    mark.success = true;
    mark.failedAfter = false;
  } else mark.failedAfter = true;
  marks.set(subscriptionId, mark);
}
