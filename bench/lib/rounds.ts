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
