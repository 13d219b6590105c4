// Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of a
// run (they share the machine's clock): publish times in one, receive times in another.
export function now (): number {
  return performance.timeOrigin + performance.now()
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
