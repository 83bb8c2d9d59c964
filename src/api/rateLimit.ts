/**
 * Per-key ingest rate limit: one token bucket per key, in this process's memory. A bucket holds
 * up to one second's worth of requests (the burst) and refills continuously. Each process of a
 * fleet keeps its own buckets, so N API processes behind a balancer allow up to N times the
 * limit in total.
 */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: () => number) {}

  /** 0 when the request may go ahead; otherwise the seconds to wait (for Retry-After). */
  take(key: string, perSecond: number): number {
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (bucket === undefined || bucket.rate !== perSecond) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      bucket = { tokens: perSecond, at: now, rate: perSecond };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }
}
