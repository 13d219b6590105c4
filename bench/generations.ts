// How many concurrent generations one instance carries (example/llm.ts: each token published on
// the generation's topic, read back by its reader) next to a plain forward() of the same fake model
// (no topic, no history). Three processes: the instance, the fake model, and the readers.
//
//   npx tsx bench/generations.ts            memory broker (20 to 60 s, with the machine's load)
//   npx tsx bench/generations.ts --redis    the topics on the Redis at REDIS_URL as well
//
// Paced: the model sends a token every 20 ms (50 tokens/s, a fast model); each step starts n
// generations at once, and "lag" is the time until the last token arrived over the model's own
// time (1.0: every reader kept up; on a shared machine it mostly measures the neighbours), and the
// server's CPU per token gives what one core carries at 50 tokens/s each. Burst: the model sends
// everything at once, the instance is the bottleneck; the ratio is what the topic costs over forward().
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { buildLlmApp } from '../example/llm.js'
import { startFakeModel } from '../example/llm/fake-model.js'
import { Event, forward, memoryBroker, stop } from '../lib/index.js'
import { redisBroker } from '../lib/redis/index.js'
import { now } from './clock.js'
import { Child, serve } from './ipc.js'
import { load, machine, revision } from './machine.js'

type Mode = 'topic' | 'forward'
type Pace = 'paced' | 'burst'
interface Run { mode: Mode, n: number, tokens: number }
interface RunResult { complete: number, delivered: number, ms: number, firstError?: string }

// The runner forks this file again in each role; its own arguments are flags.
const role = ['server', 'model', 'readers'].find((name) => name === process.argv[2])
const DELAY_MS = 20 // the paced model: 50 tokens/s per generation

// ---- the instance under test: example/llm.ts, plus POST /chat, the same model through forward()
if (role === 'server') {
  const apps: FastifyInstance[] = []
  /** example/llm.ts on `upstream`, with POST /chat: the same model through forward(). */
  const start = async (upstream: string, redis: string | undefined, prefix: string): Promise<number> => {
    const broker = redis === undefined ? memoryBroker({ history: 4096, topics: 100_000 }) : redisBroker({ url: redis }, { prefix, retention: 4096, topicTtl: 600_000, tombstoneTtl: 600_000 })
    const { app } = await buildLlmApp({ upstream, broker, heartbeat: false })
    apps.push(app)
    app.post<{ Body: { prompt: string, maxTokens: number } }>('/chat', {
      chunk: true,
      handler: forward(() => upstream, {
        method: 'POST',
        body: (req) => ({ stream: true, max_tokens: req.body.maxTokens, messages: [{ role: 'user', content: req.body.prompt }] }),
        transform (event) {
          if (event.data === '[DONE]') return stop(new Event({ event: 'done', data: '' }))
          const content: unknown = JSON.parse(event.data).choices[0]?.delta?.content
          return typeof content === 'string' && content !== '' ? new Event({ event: 'token', data: content }) : undefined
        }
      })
    })
    await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }) // a step opens its streams at once
    return (app.server.address() as { port: number }).port
  }
  serve({
    async start ({ upstreams, redis, prefix }: { upstreams: Record<Pace, string>, redis?: string, prefix: string }) {
      return { paced: await start(upstreams.paced, redis, `${prefix}paced:`), burst: await start(upstreams.burst, redis, `${prefix}burst:`) }
    },
    cpu: () => { const { user, system } = process.cpuUsage(); return user + system },
    close: async () => { await Promise.all(apps.map((app) => app.close())) }
  })
  process.send?.({ ready: true })
}

// ---- the fake model, in its own process so its CPU is not the instance's
if (role === 'model') {
  serve({ start: async ({ delayMs }: { delayMs: number }) => (await startFakeModel({ delayMs })).url })
  process.send?.({ ready: true })
}

// ---- the readers: start n generations at once, read each to its end, count the tokens
if (role === 'readers') {
  // Keep-alive, as a browser: the GET of a generation goes on the socket its POST used.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
  const post = (port: number, path: string, body: string): Promise<string> => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => { res.statusCode === 202 ? resolve(text) : reject(new Error(`POST status ${res.statusCode}`)) })
    })
    req.on('error', reject)
    req.end(body)
  })
  /** Counts `event: token` lines as they come (a line may straddle two chunks); resolves at the end. */
  const read = (port: number, path: string, method: string, body?: string): Promise<number> => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { accept: 'text/event-stream', ...(body === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`status ${res.statusCode}`)); return }
      let tokens = 0
      let done = false
      let carry = ''
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        const lines = (carry + text).split('\n')
        carry = lines.pop()!
        for (const line of lines) {
          if (line === 'event: token') tokens++
          else if (line === 'event: done') done = true
        }
      })
      res.on('end', () => { done ? resolve(tokens) : reject(new Error(`ended without done after ${tokens}`)) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
  const one = async (port: number, { mode, tokens }: Run): Promise<number> => {
    const body = JSON.stringify({ prompt: 'bench', maxTokens: tokens })
    if (mode === 'forward') return read(port, '/chat', 'POST', body)
    const { id } = JSON.parse(await post(port, '/generations', body)) as { id: string }
    return read(port, `/generations/${id}`, 'GET')
  }
  serve({
    async run ({ port, run }: { port: number, run: Run }): Promise<RunResult> {
      const t0 = now()
      const results = await Promise.allSettled(Array.from({ length: run.n }, () => one(port, run)))
      const ms = now() - t0
      const ok = results.filter((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled')
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      return {
        complete: ok.filter((r) => r.value === run.tokens).length,
        delivered: ok.reduce((sum, r) => sum + r.value, 0),
        ms,
        firstError: failed === undefined ? undefined : String(failed.reason)
      }
    }
  })
  process.send?.({ ready: true })
}

// ---- the runner
if (role === undefined) {
  const self = fileURLToPath(import.meta.url)
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const child = <A extends Record<string, (args: any) => unknown>>(name: string): Child<A> => new Child<A>(name, self, [name], [])
  type ModelApi = { start: (a: { delayMs: number }) => Promise<string> }
  type ServerApi = { start: (a: { upstreams: Record<Pace, string>, redis?: string, prefix: string }) => Promise<Record<Pace, number>>, cpu: () => number, close: () => Promise<void> }
  const readers = child<{ run: (a: { port: number, run: Run }) => Promise<RunResult> }>('readers')
  const models = { paced: child<ModelApi>('model'), burst: child<ModelApi>('model') }
  const all: Array<Child<any>> = [readers, models.paced, models.burst]
  const steps: Record<Pace, Array<Omit<Run, 'mode'>>> = { paced: [{ n: 200, tokens: 50 }, { n: 1000, tokens: 50 }], burst: [{ n: 100, tokens: 400 }] }
  const rows: string[] = []
  const prefix = `sse-bench-gen:${process.pid}:`
  try {
    await Promise.all(all.map((c) => c.ready()))
    const upstreams = { paced: await models.paced.call('start', { delayMs: DELAY_MS }), burst: await models.burst.call('start', { delayMs: 0 }) }
    console.log(`# generations bench: ${JSON.stringify(machine())}, ${revision()}, load ${load()}`)
    for (const redis of process.argv.includes('--redis') ? [undefined, redisUrl] : [undefined]) {
      const server = child<ServerApi>('server') // a fresh instance per broker
      all.push(server)
      await server.ready()
      const ports = await server.call('start', { upstreams, redis, prefix })
      for (const pace of ['paced', 'burst'] as const) {
        for (const mode of ['topic', 'forward'] as const) await readers.call('run', { port: ports[pace], run: { mode, n: 50, tokens: 20 } }, 60_000) // warm-up
        for (const step of steps[pace]) {
          const line = {} as Record<Mode, { rate: number, cpu: number, lag: number }>
          // Alternated, so that neither mode always runs second (the neighbours' load drifts).
          for (const mode of rows.length % 2 === 0 ? ['forward', 'topic'] as const : ['topic', 'forward'] as const) {
            const cpu0 = await server.call('cpu', undefined)
            const result = await readers.call('run', { port: ports[pace], run: { mode, ...step } }, 120_000)
            const cpuUs = await server.call('cpu', undefined) - cpu0
            if (result.complete !== step.n) console.log(`  ${mode} n=${step.n}: ${result.complete}/${step.n} complete (${result.firstError ?? 'short'})`)
            line[mode] = { rate: result.delivered / (result.ms / 1000), cpu: cpuUs / Math.max(1, result.delivered), lag: result.ms / (step.tokens * DELAY_MS) }
          }
          // What one core carries at this CPU cost per token, generations of 50 tokens/s each.
          const perCore = (cpu: number): string => fmt(1e6 / cpu / (1000 / DELAY_MS))
          const lag = pace === 'paced' ? `${line.forward.lag.toFixed(2)} / ${line.topic.lag.toFixed(2)} | ${perCore(line.forward.cpu)} / ${perCore(line.topic.cpu)}` : ' |'
          const row = `| ${redis === undefined ? 'memory' : 'redis'} | ${pace} | ${step.n} x ${step.tokens} | ${fmt(line.forward.rate)} | ${fmt(line.topic.rate)} | ${(line.topic.rate / line.forward.rate).toFixed(2)} | ${line.forward.cpu.toFixed(1)} / ${line.topic.cpu.toFixed(1)} | ${lag} |`
          rows.push(row)
          console.log(row)
        }
      }
      await server.call('close', undefined)
      await server.stop()
      if (redis !== undefined) await dropKeys(redis, prefix)
    }
    console.log(`\n| broker | model | generations x tokens | forward() tokens/s | topic tokens/s | topic / forward | server CPU µs/token (forward / topic) | lag (forward / topic) | generations per core, from CPU (forward / topic) |\n|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}`)
    console.log(`load ${load()} at the end (2 cores, shared: compare the columns of one row, not runs)`)
  } finally {
    await Promise.all(all.map((c) => c.stop()))
  }
}

/** The run's keys, gone (they would expire with topicTtl anyway). */
async function dropKeys (url: string, prefix: string): Promise<void> {
  const admin = new Redis(url)
  const keys = await admin.keys(`${prefix}*`)
  for (let i = 0; i < keys.length; i += 1000) await admin.del(...keys.slice(i, i + 1000))
  await admin.quit()
}

function fmt (rate: number): string {
  return Math.round(rate).toLocaleString('en-US')
}
