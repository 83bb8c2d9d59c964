/**
 * Side-by-side measurement on a shared host: two sides, four rounds, in the order A B B A. Each
 * side gets one early and one late round, so a host that speeds up or slows down during the run
 * weighs on both alike; the caller combines each side's two rounds.
 */
export async function alternate<T>(round: (side: 0 | 1) => Promise<T>): Promise<[T[], T[]]> {
  const rounds: [T[], T[]] = [[], []];
  for (const side of [0, 1, 1, 0] as const) rounds[side].push(await round(side));
  return rounds;
}

/** One rate over a side's rounds: everything they counted, over all the time they took. */
export function overRounds(rounds: readonly { count: number; seconds: number }[]): {
  count: number;
  seconds: number;
  perSecond: number;
} {
  const count = rounds.reduce((sum, r) => sum + r.count, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  return { count, seconds, perSecond: count / seconds };
}
