/**
 * The delivery columns every delivery-returning query selects, in every SQL backend (the
 * migrations give both the same names). Prefix with the table alias.
 */
export const DELIVERY_COLUMNS = [
  'id',
  'event_id',
  'subscription_id',
  'status',
  'attempts_count',
  'next_attempt_at',
  'last_status_code',
  'last_error',
  'latency_ms',
  'created_at',
  'updated_at',
  'delivered_at',
] as const;

export const deliveryColumns = (alias: string): string => DELIVERY_COLUMNS.map((c) => `${alias}.${c}`).join(', ');
