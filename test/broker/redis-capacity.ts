// Not a test (tap runs *.test.ts only): the capacity figures of docs/BROKERS.md, measured here.
//   npx tsx test/broker/redis-capacity.ts [--quick]
// Starts its own Redis servers on free ports (a single node, then a 3-master cluster), never the
// shared one; needs redis-server >= 7, redis-cli and redis-benchmark. Everything runs on this one
// machine: the servers, the load generator (redis-benchmark) and the subscribers (redis-cli).

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { redisBroker, type RedisSource } from '../../lib/redis/index.js'
import { scriptsFor } from '../../lib/redis/scripts.js'
import { startCluster } from '../helpers/redis-cluster.js'

const run = promisify(execFile)
const quick = process.argv.includes('--quick')
const REQUESTS = quick ? 50_000 : 300_000
const PAYLOAD = `:${'x'.repeat(100)}` // a 100-byte `data` without an event name, as codec.ts stores it
const teardowns: Array<() => unknown> = []
const fakeTest = { teardown: (fn: () => unknown) => teardowns.push(fn) } as unknown as Test

interface Bench { rps: number, p50: number, p99: number }

/** redis-benchmark with 50 connections, 16 pipelined each; its CSV line. */
async function benchmark (port: number, args: string[], cluster = false): Promise<Bench> {
  const options = ['-p', String(port), '-c', '50', '-P', '16', '-n', String(REQUESTS), '--csv', ...(cluster ? ['--cluster'] : [])]
  const { stdout } = await run('redis-benchmark', [...options, ...args], { maxBuffer: 1 << 20 })
  const fields = stdout.trim().split('\n').at(-1)!.split('","').map((field) => field.replaceAll('"', ''))
  return { rps: Number(fields[1]), p50: Number(fields[4]), p99: Number(fields[6]) }
}

/** The publish script's arguments, as the broker sends them, for one topic (`{tag}`: redis-benchmark's per-node tag). */
function publishArgs (sha: string, tag: string): string[] {
  const base = `sse:{${tag}}`
  return ['EVALSHA', sha, '3', `${base}:meta`, `${base}:stream`, `${base}:closed`, 'E1', '86400000', '1000', `${base}:events`, PAYLOAD]
}

async function cpuSeconds (redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1])
  return field('used_cpu_user') + field('used_cpu_sys')
}

/** `count` redis-cli processes subscribed to `channel` (SUBSCRIBE or SSUBSCRIBE), reading and discarding. */
async function subscribers (port: number, command: string, channel: string, count: number, admin: Redis): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () => spawn('redis-cli', ['-p', String(port), command, channel], { stdio: 'ignore' }))
  const numsub = command === 'SSUBSCRIBE' ? 'SHARDNUMSUB' : 'NUMSUB'
  const subscribed = async (): Promise<number> => Number((await admin.call('PUBSUB', numsub, channel) as unknown[])[1])
  if (count === 0) return children
  while (await subscribed() < count) await new Promise((resolve) => setTimeout(resolve, 20))
  return children
}

async function standalone (): Promise<{ port: number, stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sse-capacity-'))
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  process.once('exit', () => child.kill('SIGKILL'))
  for (;;) {
    try {
      if ((await run('redis-cli', ['-p', String(port), 'PING'])).stdout.trim() === 'PONG') break
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { port, stop: async () => { child.kill('SIGKILL'); await rm(dir, { recursive: true, force: true }) } }
}

/** used_memory grows by this much per retained event and per topic (100-byte data, meta + stream). */
async function memory (redis: Redis, sha: string): Promise<{ perEvent: number, perTopic: number, perSubscription: number }> {
  const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
  const publishAll = async (topics: number, events: number, name: string): Promise<void> => {
    for (let topic = 0; topic < topics; topic++) {
      const pipeline = redis.pipeline()
      for (let n = 0; n < events; n++) pipeline.evalsha(sha, 3, ...publishArgs(sha, `${name}${topic}`).slice(3))
      await pipeline.exec()
    }
  }
  await redis.flushall()
  let before = await used()
  await publishAll(100, 1000, 'm')
  const perEvent = (await used() - before) / 100_000
  await redis.flushall()
  before = await used()
  await publishAll(10_000, 1, 't')
  const perTopic = (await used() - before) / 10_000 - perEvent
  await redis.flushall()
  const subscriber = redis.duplicate()
  await subscriber.ping()
  before = await used()
  const channels = Array.from({ length: 10_000 }, (_, i) => `sse:{s${i}}:events`)
  for (let i = 0; i < channels.length; i += 1000) await subscriber.subscribe(...channels.slice(i, i + 1000))
  const perSubscription = (await used() - before) / channels.length
  subscriber.disconnect()
  return { perEvent, perTopic, perSubscription }
}

/** What one Node process publishes through the broker itself: 64 publishes in flight over 100 topics. */
async function brokerRate (source: RedisSource): Promise<number> {
  const broker = redisBroker(source, { prefix: 'capacity:' })
  const total = quick ? 10_000 : 40_000
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++
      await broker.publish(`t${n % 100}`, { data: 'x'.repeat(100) })
    }
  }
  // Warm-up: the connections open, the scripts load, every topic has an epoch.
  for (let topic = 0; topic < 100; topic++) await broker.publish(`t${topic}`, { data: 'warm-up' })
  const started = performance.now()
  await Promise.all(Array.from({ length: 64 }, worker))
  const rate = total / ((performance.now() - started) / 1000)
  await broker.close()
  return rate
}

async function main (): Promise<void> {
  const log = (line: string): void => { console.log(line) }
  log(`# ${cpus().length} x ${cpus()[0].model}, load ${loadavg().map((n) => n.toFixed(2)).join(' ')}, ${REQUESTS} requests a run, 100-byte payloads`)
  const single = await standalone()
  teardowns.push(single.stop)
  const redis = new Redis({ port: single.port })
  teardowns.push(() => redis.disconnect())
  const [plain, sharded] = [scriptsFor('PUBLISH').publish.source, scriptsFor('SPUBLISH').publish.source]
  const sha = await redis.script('LOAD', plain) as string

  log('\n## One node (the publish script, PUBLISH)')
  for (const count of [0, 1, 10, 50]) {
    const children = await subscribers(single.port, 'SUBSCRIBE', 'sse:{t}:events', count, redis)
    const before = await cpuSeconds(redis)
    const result = await benchmark(single.port, publishArgs(sha, 't'))
    const usec = (await cpuSeconds(redis) - before) / REQUESTS * 1e6
    for (const child of children) child.kill()
    log(`subscribers ${count}: ${Math.round(result.rps)} publishes/s, ${Math.round(result.rps * count)} messages/s out, p50 ${result.p50} ms p99 ${result.p99} ms; Redis CPU ${usec.toFixed(1)} µs a publish (${Math.round(1e6 / usec)}/s per core)`)
  }
  const bytes = await memory(redis, sha)
  log(`memory: ${bytes.perEvent.toFixed(0)} B per retained event, ${bytes.perTopic.toFixed(0)} B more per topic, ${bytes.perSubscription.toFixed(0)} B per (channel, subscriber)`)
  await redis.flushall()
  log(`one Node process through redisBroker({ url }): ${Math.round(await brokerRate({ url: `redis://127.0.0.1:${single.port}` }))} publishes/s`)

  log('\n## 3-master cluster (the publish script, SPUBLISH), every master on this same machine')
  const cluster = await startCluster(fakeTest, 3)
  const admins = cluster.nodes.map(({ port }) => cluster.admin(port))
  const clusterSha = (await Promise.all(admins.map((admin) => admin.script('LOAD', sharded) as Promise<string>)))[0]
  for (const admin of admins) await admin.config('RESETSTAT')
  const cpu0 = await Promise.all(admins.map(cpuSeconds))
  const started = Date.now()
  const spread = await benchmark(cluster.nodes[0].port, publishArgs(clusterSha, 'tag'), true)
  const elapsed = (Date.now() - started) / 1000
  const spent = (await Promise.all(admins.map(cpuSeconds))).map((seconds, i) => seconds - cpu0[i])
  const perPublish = spent.reduce((sum, seconds) => sum + seconds, 0) / REQUESTS * 1e6
  log(`no subscribers: ${Math.round(spread.rps)} publishes/s over 3 masters, p50 ${spread.p50} ms p99 ${spread.p99} ms; masters busy ${spent.map((c) => (c / elapsed).toFixed(2)).join(', ')} of a core; Redis CPU ${perPublish.toFixed(1)} µs a publish`)

  log(`one Node process through redisBroker({ cluster }): ${Math.round(await brokerRate({ cluster: cluster.startupNodes }))} publishes/s`)

  log('\n## PUBLISH vs SPUBLISH on the cluster (one subscriber per master: the instances)')
  const channel = 'sse:{b}:events'
  const owner = await cluster.ownerOf(channel)
  for (const command of ['PUBLISH', 'SPUBLISH']) {
    const subscribe = command === 'PUBLISH' ? 'SUBSCRIBE' : 'SSUBSCRIBE'
    const children = (await Promise.all(cluster.nodes.map(({ port }, i) => command === 'SPUBLISH' && port !== owner ? [] : subscribers(port, subscribe, channel, 1, admins[i])))).flat()
    const info0 = await Promise.all(admins.map((admin) => admin.cluster('INFO') as Promise<string>))
    const before = await Promise.all(admins.map(cpuSeconds))
    const start = Date.now()
    const result = await benchmark(owner, [command, channel, PAYLOAD])
    const seconds = (Date.now() - start) / 1000
    const spent = (await Promise.all(admins.map(cpuSeconds))).map((s, i) => s - before[i])
    const perMessage = spent.map((s, i) => `${cluster.nodes[i].port === owner ? 'owner ' : ''}${(s / REQUESTS * 1e6).toFixed(1)}`)
    const info1 = await Promise.all(admins.map((admin) => admin.cluster('INFO') as Promise<string>))
    const received = info1.map((info, i) => `${cluster.nodes[i].port === owner ? 'owner ' : ''}${counter(info, 'received') - counter(info0[i], 'received')}`)
    for (const child of children) child.kill()
    log(`${command}: ${Math.round(result.rps)}/s in ${seconds.toFixed(1)} s; bus messages received per node ${received.join(', ')}; Redis CPU per message on each node ${perMessage.join(', ')} µs`)
  }
}

/** The cluster bus messages of type publish and publishshard a node received (CLUSTER INFO). */
function counter (info: string, way: string): number {
  return [...info.matchAll(new RegExp(`cluster_stats_messages_publish(?:shard)?_${way}:(\\d+)`, 'g'))].reduce((sum, match) => sum + Number(match[1]), 0)
}

if (process.env.TAP !== undefined) {
  // Picked up by `tap test/broker/`: say so, and measure nothing.
  console.log('1..0 # SKIP a measurement script, run by hand')
} else {
  try {
    await main()
  } finally {
    for (const fn of teardowns.reverse()) await fn()
  }
}
