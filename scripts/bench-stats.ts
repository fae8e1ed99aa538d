/** Small statistics shared by the benchmarks: medians and spreads of repeated, alternated runs. */

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}

/** "median (min–max)" of per-run values. */
export function spread(xs: readonly number[], digits = 2): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`
}

/** The 1-minute load average, to print next to figures taken on a shared machine. */
export async function loadAverage(): Promise<string> {
  return (await Bun.file('/proc/loadavg').text()).split(' ').slice(0, 3).join(' ')
}
