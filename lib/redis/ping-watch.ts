import type { Redis } from 'ioredis'

/**
 * PINGs a connection every `interval` ms while it is ready. A path that went silent (no FIN or RST)
 * never emits `close`; a PING left without a reply (it rejects after the connection's
 * `commandTimeout`) is the only sign. The connection is then dropped with reconnect, so that the
 * usual `close` / reconnect / catch-up path runs. One PING at a time; returns the stop function.
 */
export function watchWithPings (redis: Redis, interval: number): () => void {
  if (interval === 0) return () => {}
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const schedule = (): void => {
    if (!stopped) timer = setTimeout(beat, interval)
  }
  const beat = (): void => {
    timer = undefined
    if (redis.status !== 'ready') return schedule()
    redis.ping().then(schedule, () => {
      // Not ready any more: it dropped by itself and is already reconnecting.
      if (!stopped && redis.status === 'ready') redis.disconnect(true)
      schedule()
    })
  }
  schedule()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
