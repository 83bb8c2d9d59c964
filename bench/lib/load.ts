/** The HTTP load generator (autocannon), run in this process against a child server. */
import autocannon from 'autocannon';

export const EVENT_BODY = JSON.stringify({
  type: 'order.created',
  source: 'bench',
  payload: { order_id: 12345, amount: 99.5, currency: 'EUR', customer: { id: 'cus_42', tier: 'gold' }, items: [{ sku: 'A-1', qty: 2 }] },
});

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  non2xx: number;
  errors: number;
  latencyP50: number;
  latencyP99: number;
}

export async function hammer(
  url: string,
  options: { seconds: number; connections: number; body?: string; headers?: Record<string, string> },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    body: options.body ?? EVENT_BODY,
    headers: { 'content-type': 'application/json', ...options.headers },
  });
  return {
    requestsPerSecond: result.requests.mean,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}
