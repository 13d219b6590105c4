// Replay: a client reads its cursor on one instance, `replayEvents` are published on A, and the client
// reconnects with that cursor as Last-Event-ID (on Redis, to a third instance): time to get them all.

import { median } from '../stats.js'
import type { Cluster } from './cluster.js'
import type { RedisBenchOptions } from './options.js'
import { cursorOf, replay, type ReplayResult } from './replay-client.js'
import type { ReplayMeasure } from './results.js'

/** Cursor on B, publish on A, reconnect on C: every step on another instance when there are three. */
function roles (cluster: Cluster): { cursorOn: number, publishOn: number, reconnectOn: number } {
  const last = cluster.ports.length - 1
  return { cursorOn: Math.min(1, last), publishOn: 0, reconnectOn: Math.min(2, last) }
}

async function replayRound (cluster: Cluster, round: number, options: RedisBenchOptions): Promise<ReplayResult> {
  const { cursorOn, publishOn, reconnectOn } = roles(cluster)
  const count = options.replayEvents
  const from = 1 + round * count
  const cursor = await cursorOf(cluster.ports[cursorOn], '/r', options.timeoutMs)
  await cluster.instances[publishOn].call('burst', { topic: 'r', from, count, size: options.size }, options.timeoutMs)
  return replay(cluster.ports[reconnectOn], '/r', cursor, from, count, options.timeoutMs)
}

/** One unmeasured round (the first read compiles the path), then `replayRounds` measured ones. */
export async function replayScenario (cluster: Cluster, options: RedisBenchOptions): Promise<ReplayMeasure> {
  const warmup = await replayRound(cluster, 0, options)
  const rounds: ReplayResult[] = []
  for (let round = 1; round <= options.replayRounds; round++) rounds.push(await replayRound(cluster, round, options))
  const ok = warmup.ok && rounds.every((result) => result.ok)
  return {
    events: options.replayEvents,
    ...roles(cluster),
    medianMs: ok ? median(rounds.map((result) => result.ms)) : undefined,
    medianFirstMs: ok ? median(rounds.map((result) => result.firstMs)) : undefined,
    warmup,
    rounds,
    ok
  }
}
