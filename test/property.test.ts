import { randomUUID } from 'node:crypto'
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { type Broker, type ChunkedHandler, Event, isPublished, memoryBroker, ssePlugin, topics } from '../lib/index.js'
import { redisBroker } from '../lib/redis/index.js'
import { redisAvailable, redisUrl } from './helpers/redis.js'
import { openWire, type WireConnection, type WireEvent } from './helpers/sse-wire.js'

// Issue 9, "Deliver": property tests written to break the promise of exact resume (DESIGN "Event ids,
// resume and ordering", "Replay", closeTopic). fast-check generates a scenario, a list of steps run
// one after the other against real apps on real sockets, with real HTTP clients:
//
//   publish   1 to 4 events, one after the other or all at once, through any instance
//   open      a new client on one of four routes: a topics() relay, an async `handle`, and both
//             again with a tiny `mailbox.limit` (the relay one also with a tiny `highWaterMark`)
//   reconnect cut the socket and open again with the last event id seen (as EventSource does)
//   cut       cut the socket and stay away until a later step brings the client back
//   stall / unstall    stop reading / read again
//   burst     publish while a client reconnects (its replay and live events interleave)
//   flood     10 to 40 events at once (past a small history: a reset is then legitimate)
//   overflow  a client stops reading while 64 KiB events fill its socket, until the server cuts it
//   closeTopic, and settle (bring back every client that is away, let them catch up)
//
// The model is the topic's published sequence: what `app.sse.publish` resolved, in the order of the
// positions it resolved to. The property, checked for every client over all its connections:
//  - it sees each event at most once, in publish order, each with an id;
//  - a client that resumes with its last id misses nothing, unless it was told `event: reset`, and a
//    reset is only legitimate when the client is more than `history` events behind (the memory
//    broker keeps exactly `history` events, Redis `MAXLEN ~ retention` keeps at least that many);
//  - a fresh client (no id) starts at the head: nothing from before it subscribed, nothing missed after;
//  - closeTopic's final event comes after every event published before the close, and a reconnect
//    gets its 204 only once the client has received everything published before the close;
//  - in the end every client has the whole sequence from where it started.
// Both brokers: the memory broker (one instance) and the Redis broker (two instances on one prefix,
// a fresh prefix for every run, clients and publishes spread over both).
//
// A failure prints the fast-check counterexample (seed, path, the shrunk scenario) and, for the run,
// what was lost, duplicated or reset, for which client, at which step, and the trace of the run.
// PROPERTY_RUNS sets the number of runs per broker (default 40); PROPERTY_SEED and PROPERTY_PATH
// replay a failure (both are printed with it); PROPERTY_ROUTES=relay,async restricts the routes;
// PROPERTY_TIME_BUDGET_MS bounds each broker's property (default 18 s); PROPERTY_VERBOSE=1 prints
// each run's duration.

const RUNS = Number(process.env.PROPERTY_RUNS ?? 40)
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED)
const PATH = process.env.PROPERTY_PATH
/** Past this, the runs left are skipped (shrinking a failure included): the file stays bounded. */
const TIME_BUDGET_MS = Number(process.env.PROPERTY_TIME_BUDGET_MS ?? 18_000)
const TOPIC = 'p'
/** "Large enough that no reset is legitimate": no scenario publishes this many. */
const LARGE_HISTORY = 100_000
const BIG = 'x'.repeat(64 * 1024)
/** ms without a byte to any client after which a settle stops waiting (past its own `ms`). */
const SETTLE_QUIET_MS = 400
/** ms a settle waits at most, however slowly bytes still come. */
const SETTLE_CAP_MS = 8_000

type RouteKind = 'relay' | 'async' | 'tight' | 'tight-async'
const ROUTES = (process.env.PROPERTY_ROUTES?.split(',') ?? ['relay', 'async', 'tight', 'tight-async']) as RouteKind[]

type Step =
  | { op: 'publish', count: number, concurrent: boolean, via: number }
  | { op: 'open', route: RouteKind, via: number }
  | { op: 'reconnect', client: number, via: number }
  | { op: 'cut', client: number }
  | { op: 'stall', client: number }
  | { op: 'unstall', client: number }
  | { op: 'burst', client: number, count: number, via: number }
  | { op: 'flood', count: number, via: number }
  | { op: 'overflow', client: number, via: number }
  | { op: 'closeTopic', via: number }
  | { op: 'settle' }

interface Scenario {
  /** memoryBroker({ history }) / redisBroker retention. */
  history: number
  /** `mailbox.limit` of the tight routes. */
  mailboxLimit: number
  opens: RouteKind[]
  steps: Step[]
}

const via = fc.nat({ max: 1 })
const clientIndex = fc.nat({ max: 7 })
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant('publish' as const), count: fc.integer({ min: 1, max: 4 }), concurrent: fc.boolean(), via }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('open' as const), route: fc.constantFrom(...ROUTES), via }) },
  { weight: 7, arbitrary: fc.record({ op: fc.constant('reconnect' as const), client: clientIndex, via }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('cut' as const), client: clientIndex }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stall' as const), client: clientIndex }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unstall' as const), client: clientIndex }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('burst' as const), client: clientIndex, count: fc.integer({ min: 2, max: 8 }), via }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('flood' as const), count: fc.integer({ min: 10, max: 40 }), via }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('overflow' as const), client: clientIndex, via }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closeTopic' as const), via }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('settle' as const) }) }
)

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  // Mostly a history no scenario can outrun (then no reset is legitimate); sometimes a tiny one.
  history: fc.oneof({ weight: 3, arbitrary: fc.constant(LARGE_HISTORY) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 6 }) }),
  mailboxLimit: fc.integer({ min: 2, max: 8 }),
  opens: fc.array(fc.constantFrom(...ROUTES), { minLength: 1, maxLength: 3 }),
  steps: fc.array(stepArbitrary, { minLength: 3, maxLength: 22 })
})

// ---- the system under test ----------------------------------------------------------------------

interface BrokerKind {
  name: string
  instances: number
  /** Brokers for one run (one per instance, sharing the topic), and how to remove what they left. */
  make (history: number): { brokers: Broker[], cleanup (): Promise<void> }
}

const memoryKind: BrokerKind = {
  name: 'memory',
  instances: 1,
  make: (history) => ({ brokers: [memoryBroker({ history })], cleanup: async () => {} })
}

function redisKind (admin: Redis): BrokerKind {
  const root = `sse-test:property:${randomUUID()}:`
  let runs = 0
  return {
    name: 'redis',
    instances: 2,
    make (history) {
      const prefix = `${root}${++runs}:`
      const brokers = [0, 1].map(() => redisBroker({ url: redisUrl }, { prefix, retention: history }))
      return {
        brokers,
        async cleanup () {
          const keys = await admin.keys(`${prefix}*`)
          if (keys.length > 0) await admin.del(...keys)
        }
      }
    }
  }
}

async function relayAsync (msg: unknown): Promise<Event | undefined> {
  await tick()
  return isPublished(msg) ? msg.event : undefined
}

/** One instance: the four routes on the run's topic. */
async function startInstance (broker: Broker, mailboxLimit: number): Promise<{ app: FastifyInstance, url: string }> {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { broker, heartbeat: false, shutdownTimeout: 1000 })
  const asyncHandler: ChunkedHandler = { init: (token) => token.subscribe(TOPIC), handle: relayAsync }
  app.get('/relay', { chunk: true, handler: topics(() => [TOPIC]) })
  app.get('/async', { chunk: true, handler: asyncHandler })
  app.get('/tight', { chunk: { mailbox: { limit: mailboxLimit }, highWaterMark: 1024 }, handler: topics(() => [TOPIC]) })
  app.get('/tight-async', { chunk: { mailbox: { limit: mailboxLimit } }, handler: asyncHandler })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url }
}

// ---- one run --------------------------------------------------------------------------------------

interface Published { n: number, offset: number, epoch: string, step: number }

type Entry =
  | { kind: 'event', n: number, step: number, conn: number, id: string, started: number }
  | { kind: 'reset', step: number, conn: number, started: number }
  | { kind: 'done', step: number, conn: number }
  | { kind: 'fresh', step: number, conn: number, resolved: number, started: number }
  | { kind: '204', step: number, conn: number }
  | { kind: 'odd', step: number, conn: number, what: string }

interface ConnectionInfo {
  no: number
  step: number
  via: number
  sent: string
  status?: number
  error?: string
  wire?: WireConnection
  /** Why the test (re)connected (`open`, `reconnect`, `burst`, `settle`, `final`). */
  why: string
}

class Client {
  readonly log: Entry[] = []
  readonly connections: ConnectionInfo[] = []
  lastEventId = ''
  stalled = false
  got204 = false
  constructor (readonly name: string, readonly route: RouteKind) {}

  get wire (): WireConnection | undefined {
    return this.connections.at(-1)?.wire
  }

  get connected (): boolean {
    const wire = this.wire
    return wire !== undefined && !wire.isEnded && wire.status === 200
  }

  describeConnections (): string {
    return this.connections.map((c) => {
      const wire = c.wire
      const what = c.error !== undefined
        ? `failed: ${c.error}`
        : `${c.status}${wire === undefined ? '' : `, ${wire.events.length} events, ${wire.bytes} bytes${wire.retries.length > 0 ? `, retry: ${wire.retries.join(',')}` : ''}${wire.isEnded ? `, ended (${wire.endReason})` : ', open'}`}`
      return `#${c.no} step ${c.step} ${c.why} via ${c.via}${c.sent === '' ? ' (no id)' : ` (Last-Event-ID ${c.sent})`}: ${what}`
    }).join('\n      ')
  }
}

class Run {
  readonly apps: Array<{ app: FastifyInstance, url: string }> = []
  readonly clients: Client[] = []
  readonly published: Published[] = []
  readonly failures: string[] = []
  readonly trace: string[] = []
  /** Publishes started (each its own n): an upper bound on the head at any moment. */
  started = 0
  step = -1
  closed = false
  /** Publishes resolved when closeTopic was called. */
  closeCount = 0
  /** The instances' stats, summed when the run ends. */
  readonly stats = { overflowDisconnects: 0, replays: 0 }

  constructor (readonly kind: BrokerKind, readonly scenario: Scenario) {}

  fail (message: string): void {
    this.failures.push(`step ${this.step}: ${message}`)
  }

  note (message: string): void {
    this.trace.push(`#${this.step} ${message}`)
  }

  appAt (via: number): { app: FastifyInstance, url: string } {
    return this.apps[via % this.apps.length]
  }

  clientAt (index: number): Client | undefined {
    return this.clients.length === 0 ? undefined : this.clients[index % this.clients.length]
  }

  overflows (): number {
    return this.apps.reduce((sum, { app }) => sum + app.sse.stats().overflowDisconnects, 0)
  }

  // ---- publishing

  async publishOne (via: number, big = false): Promise<void> {
    const n = ++this.started
    const step = this.step
    try {
      const position = await this.appAt(via).app.sse.publish(TOPIC, big ? { n, big: BIG } : { n })
      const match = /=([\w-]+)\.(\d+)$/.exec(position)
      if (match === null) {
        this.fail(`publish n=${n} resolved to an unexpected position ${position}`)
        return
      }
      if (this.closed) this.fail(`publish n=${n} after closeTopic resolved (${position}) instead of rejecting with SSE_ERR_TOPIC_CLOSED`)
      this.published.push({ n, epoch: match[1], offset: Number(match[2]), step })
    } catch (error) {
      const { code, message } = error as { code?: string, message?: string }
      if (this.closed && code === 'SSE_ERR_TOPIC_CLOSED') return
      this.fail(`publish n=${n} rejected: ${code} ${message}`)
    }
  }

  async publish (count: number, concurrent: boolean, via: number): Promise<void> {
    const first = this.started + 1
    if (concurrent) await Promise.all(Array.from({ length: count }, (_, i) => this.publishOne(via + i)))
    else for (let i = 0; i < count; i++) await this.publishOne(via + i)
    this.note(`publish n=${first}..${this.started}${concurrent ? ' at once' : ''}`)
  }

  // ---- clients

  async connect (client: Client, via: number, why: string): Promise<void> {
    if (client.got204) return
    client.wire?.close()
    const sent = client.wire?.lastEventId ?? client.lastEventId
    client.lastEventId = sent
    const info: ConnectionInfo = { no: client.connections.length + 1, step: this.step, via: via % this.apps.length, sent, why }
    client.connections.push(info)
    const resolvedBefore = this.published.length
    const { url } = this.appAt(via)
    try {
      const wire = await openWire(`${url}/${client.route}`, {
        lastEventId: sent,
        headTimeout: 5000,
        onEvent: (event) => this.received(client, info.no, event)
      })
      info.wire = wire
      info.status = wire.status
    } catch (error) {
      info.error = (error as Error).message
      this.fail(`${client.name}: connection #${info.no} got no response: ${info.error}`)
      return
    }
    const wire = info.wire
    // A stream opened without an id starts at the head (or is told 204 when the topic is closed).
    if (sent === '') client.log.push({ kind: 'fresh', step: this.step, conn: info.no, resolved: resolvedBefore, started: this.started })
    if (wire.status === 204) {
      client.got204 = true
      client.log.push({ kind: '204', step: this.step, conn: info.no })
      if (!this.closed) this.fail(`${client.name}: connection #${info.no} got a 204 on a topic that was never closed`)
      return
    }
    if (wire.status !== 200) {
      this.fail(`${client.name}: connection #${info.no} got status ${wire.status}`)
      return
    }
    if (sent === '') {
      if (this.closed) this.fail(`${client.name}: a new stream on a closed topic got 200, not 204 (connection #${info.no})`)
      // DESIGN: subscribe writes an id-only block at once, so a reconnect before the first event resumes.
      const deadline = Date.now() + 2000
      while (wire.lastEventId === '' && !wire.isEnded && Date.now() < deadline) await sleep(2)
      if (wire.lastEventId === '' && !wire.isEnded) this.fail(`${client.name}: no id within 2 s of subscribing (connection #${info.no}): a reconnect could not resume`)
    }
    if (client.stalled) wire.pause()
  }

  received (client: Client, conn: number, event: WireEvent): void {
    const step = this.step
    if (event.type === 'message') {
      let n: number
      try {
        n = JSON.parse(event.data).n
      } catch {
        client.log.push({ kind: 'odd', step, conn, what: `unparsable data ${event.data.slice(0, 80)}` })
        return
      }
      client.log.push({ kind: 'event', n, step, conn, id: event.lastEventId, started: this.started })
    } else if (event.type === 'reset') {
      client.log.push({ kind: 'reset', step, conn, started: this.started })
    } else if (event.type === 'done') {
      client.log.push({ kind: 'done', step, conn })
    } else {
      client.log.push({ kind: 'odd', step, conn, what: `event: ${event.type} data: ${event.data.slice(0, 80)}` })
    }
  }

  openClient (route: RouteKind, via: number): Promise<void> {
    const client = new Client(`c${this.clients.length}`, route)
    this.clients.push(client)
    this.note(`open ${client.name} on /${route} via ${via % this.apps.length}`)
    return this.connect(client, via, 'open')
  }

  /** Has everything it can be owed: the latest event, or nothing was published since it (re)started. */
  caughtUp (client: Client): boolean {
    if (this.published.length === 0) return true
    for (let i = client.log.length - 1; i >= 0; i--) {
      const entry = client.log[i]
      if (entry.kind === 'event') return entry.n === this.latest().n
      if (entry.kind === 'fresh' || entry.kind === 'reset') return entry.started === this.started
    }
    return false
  }

  latest (): Published {
    let latest = this.published[0]
    for (const p of this.published) if (p.offset > latest.offset) latest = p
    return latest
  }

  /** Brings back every client that is away, and waits (bounded) until the connected ones caught up. */
  async settle (ms: number, why: string, maxReconnects = Infinity): Promise<void> {
    const reconnects = new Map<Client, number>()
    // `ms` of waiting, prolonged while a client that is behind still receives bytes (a loaded
    // machine replays megabytes slowly): what counts as lost is what stopped coming, not what is late.
    let deadline = Date.now() + ms
    const hardDeadline = Date.now() + SETTLE_CAP_MS
    /** Bytes each connection had at the last look: only a connection that was already open counts as progress. */
    const bytesSeen = new Map<WireConnection, number>()
    for (const client of this.clients) {
      if (client.stalled) {
        client.stalled = false
        client.wire?.resume()
      }
    }
    while (Date.now() < deadline) {
      let waiting = false
      for (const client of this.clients) {
        if (client.got204) continue
        if (client.connected && !this.closed && this.caughtUp(client)) continue
        waiting = true
        if (client.connected) continue
        const count = reconnects.get(client) ?? 0
        if (count >= maxReconnects) continue
        reconnects.set(client, count + 1)
        // Like EventSource after a stream ended (a short 200 with `retry:` included): come back,
        // here at once rather than after the seconds asked (this is a test).
        await this.connect(client, count, why)
      }
      if (!waiting) return
      let progress = false
      for (const client of this.clients) {
        const wire = client.wire
        if (wire === undefined || !client.connected) continue
        const before = bytesSeen.get(wire)
        if (before !== undefined && wire.bytes > before) progress = true
        bytesSeen.set(wire, wire.bytes)
      }
      if (progress) deadline = Math.min(hardDeadline, Math.max(deadline, Date.now() + SETTLE_QUIET_MS))
      await sleep(5)
    }
  }

  async overflow (client: Client, via: number): Promise<void> {
    if (!client.connected || this.closed) return
    client.stalled = true
    client.wire?.pause()
    const before = this.overflows()
    let sent = 0
    // Until the server gives up on the stalled socket (a few MB of kernel buffers on loopback, then
    // highWaterMark, then mailbox.limit): only the tight routes get there in 100 events; for the
    // others, 20 events make a slow consumer.
    const most = client.route.startsWith('tight') ? 100 : 20
    while (sent < most && this.overflows() === before && !this.closed) {
      await this.publishOne(via, true)
      if (++sent % 4 === 0) await tick()
    }
    this.note(`overflow ${client.name}: ${sent} events of 64 KiB, ${this.overflows() - before} overflow disconnect(s)`)
    client.stalled = false
    client.wire?.resume()
  }

  async runStep (step: Step): Promise<void> {
    switch (step.op) {
      case 'publish':
        return this.publish(step.count, step.concurrent, step.via)
      case 'open':
        return this.openClient(step.route, step.via)
      case 'reconnect': {
        const client = this.clientAt(step.client)
        if (client === undefined || client.got204) return
        this.note(`reconnect ${client.name} via ${step.via % this.apps.length}`)
        return this.connect(client, step.via, 'reconnect')
      }
      case 'cut': {
        const client = this.clientAt(step.client)
        if (client === undefined) return
        this.note(`cut ${client.name}`)
        client.wire?.close()
        return
      }
      case 'stall': {
        const client = this.clientAt(step.client)
        if (client === undefined) return
        this.note(`stall ${client.name}`)
        client.stalled = true
        client.wire?.pause()
        return
      }
      case 'unstall': {
        const client = this.clientAt(step.client)
        if (client === undefined) return
        this.note(`unstall ${client.name}`)
        client.stalled = false
        client.wire?.resume()
        return
      }
      case 'burst': {
        const client = this.clientAt(step.client)
        if (client === undefined || client.got204) return this.publish(step.count, false, step.via)
        const first = this.started + 1
        await Promise.all([
          this.connect(client, step.via, 'burst'),
          (async () => {
            for (let i = 0; i < step.count; i++) {
              await this.publishOne(step.via + i)
              await tick()
            }
          })()
        ])
        this.note(`burst: ${client.name} reconnects while n=${first}..${first + step.count - 1} are published`)
        return
      }
      case 'flood': {
        const first = this.started + 1
        for (let done = 0; done < step.count; done += 10) {
          await Promise.all(Array.from({ length: Math.min(10, step.count - done) }, (_, i) => this.publishOne(step.via + i)))
        }
        this.note(`flood n=${first}..${this.started}`)
        return
      }
      case 'overflow': {
        const client = this.clientAt(step.client)
        if (client === undefined) return
        return this.overflow(client, step.via)
      }
      case 'closeTopic': {
        const { app } = this.appAt(step.via)
        if (!this.closed) {
          this.closed = true
          this.closeCount = this.published.length
        }
        this.note(`closeTopic after ${this.closeCount} events`)
        try {
          await app.sse.closeTopic(TOPIC, new Event({ event: 'done', data: 'bye' }))
        } catch (error) {
          this.fail(`closeTopic rejected: ${(error as Error).message}`)
        }
        return
      }
      case 'settle':
        this.note('settle')
        return this.settle(500, 'settle')
    }
  }

  async execute (): Promise<void> {
    const { brokers, cleanup } = this.kind.make(this.scenario.history)
    try {
      for (const broker of brokers) this.apps.push(await startInstance(broker, this.scenario.mailboxLimit))
      for (const [i, route] of this.scenario.opens.entries()) await this.openClient(route, i)
      for (const [i, step] of this.scenario.steps.entries()) {
        this.step = i
        await this.runStep(step)
      }
      this.step = this.scenario.steps.length
      this.note('final: every client comes back and catches up')
      await this.settle(1500, 'final', 12)
      this.verify()
    } finally {
      for (const { app } of this.apps) {
        const stats = app.sse.stats()
        this.stats.overflowDisconnects += stats.overflowDisconnects
        this.stats.replays += stats.replays
      }
      for (const client of this.clients) client.wire?.close()
      await Promise.all(this.apps.map(({ app }) => app.close()))
      await cleanup()
    }
  }

  // ---- the property

  verify (): void {
    const sequence = [...this.published].sort((a, b) => a.offset - b.offset)
    const epochs = new Set(sequence.map((p) => p.epoch))
    if (epochs.size > 1) this.fail(`the topic's publishes resolved to several epochs: ${[...epochs].join(', ')}`)
    sequence.forEach((p, i) => {
      if (p.offset !== i + 1) this.fail(`publish positions are not 1..${sequence.length}: n=${p.n} at offset ${p.offset}, expected ${i + 1}`)
    })
    const indexOf = new Map(sequence.map((p, i) => [p.n, i]))
    const list = (events: Published[]): string => {
      const missed = events.map((p) => p.n)
      return missed.length <= 12 ? `n=[${missed.join(',')}]` : `${missed.length} events n=[${missed.slice(0, 6).join(',')},...,${missed.slice(-3).join(',')}]`
    }
    const history = this.scenario.history
    for (const client of this.clients) {
      const problems: string[] = []
      const at = (entry: { step: number, conn: number }): string => `at step ${entry.step}, connection #${entry.conn}`
      /** Index in `sequence` of the next event the client must see, when its place is exact. */
      let next = 0
      // After an open without an id, or an `event: reset`, the client's place is known only within
      // bounds: it must not get an event before `low` again, and must get every event whose publish
      // started after `threshold` (publishes in flight meanwhile may fall on either side).
      let floating: { low: number, threshold: number, conn: number, why: 'fresh' | 'reset' } | undefined
      const owed = (to: number): Published[] => floating === undefined
        ? sequence.slice(next, to)
        : sequence.slice(floating.low, to).filter((p) => p.n > floating!.threshold)
      for (const entry of client.log) {
        switch (entry.kind) {
          case 'fresh':
            floating = { low: entry.resolved, threshold: entry.started, conn: entry.conn, why: 'fresh' }
            break
          case 'event': {
            if (entry.id === '') problems.push(`n=${entry.n} came without an id ${at(entry)}`)
            const index = indexOf.get(entry.n)
            if (index === undefined) {
              problems.push(`saw n=${entry.n} ${at(entry)}, which no publish resolved`)
              break
            }
            if (floating !== undefined) {
              if (index < floating.low) {
                problems.push(floating.why === 'fresh'
                  ? `DUPLICATE/REPLAY: a stream opened without an id got n=${entry.n} ${at(entry)}, resolved before it subscribed`
                  : `DUPLICATE: n=${entry.n} ${at(entry)} after event: reset, though the client already had it`)
              } else {
                const skipped = sequence.slice(floating.low, index).filter((p) => p.n > floating!.threshold)
                if (skipped.length > 0) problems.push(`LOST: ${list(skipped)} missing before n=${entry.n} ${at(entry)}, published after ${floating.why === 'fresh' ? 'it subscribed' : 'its event: reset'}`)
              }
            } else if (index < next) {
              problems.push(`DUPLICATE/REORDER: n=${entry.n} ${at(entry)} after it had n=${sequence[next - 1].n}`)
              break
            } else if (index > next) {
              problems.push(`LOST: ${list(sequence.slice(next, index))} missing before n=${entry.n} ${at(entry)}, with no event: reset`)
            }
            next = index + 1
            floating = undefined
            break
          }
          case 'reset': {
            if (floating?.why === 'fresh' && floating.conn === entry.conn) {
              problems.push(`event: reset ${at(entry)} on a stream opened without Last-Event-ID`)
              break
            }
            const cursor = floating?.low ?? next
            const behind = entry.started - cursor
            if (behind <= history) problems.push(`RESET: event: reset ${at(entry)} although the client was at most ${behind} events behind and the history is ${history}`)
            floating = { low: cursor, threshold: entry.started, conn: entry.conn, why: 'reset' }
            break
          }
          case 'done': {
            if (!this.closed) {
              problems.push(`closeTopic's final event ${at(entry)}, but the topic was never closed`)
              break
            }
            const missing = owed(this.closeCount)
            if (missing.length > 0) problems.push(`LOST/ORDER: closeTopic's final event ${at(entry)} came before ${list(missing)}, published before the close`)
            break
          }
          case '204': {
            const missing = owed(this.closeCount)
            if (this.closed && missing.length > 0) {
              problems.push(`LOST: 204 ${at(entry)} while ${list(missing)} (published before closeTopic) never reached the client` +
                (missing.length > history ? ` (more than the history of ${history}: an event: reset was due at least)` : ''))
            }
            break
          }
          case 'odd':
            problems.push(`unexpected ${entry.what} ${at(entry)}`)
            break
        }
      }
      if (!client.got204) {
        const missing = owed(this.closed ? this.closeCount : sequence.length)
        if (missing.length > 0) problems.push(`LOST at the end: never got ${list(missing)} (connected: ${client.connected})`)
        if (this.closed) problems.push('never got the 204 a closed topic answers, after several reconnects')
      }
      if (problems.length > 0) {
        const seen = client.log.map((e) => e.kind === 'event' ? e.n : e.kind === 'fresh' ? 'open(no id)' : e.kind).join(' ')
        this.failures.push(`${client.name} (/${client.route}): ${problems.join('; ')}\n    saw: ${seen}\n    connections:\n      ${client.describeConnections()}`)
      }
    }
  }

  header (): string {
    const { history, mailboxLimit } = this.scenario
    return `${this.kind.name} broker, ${this.kind.instances} instance(s), history ${history}, tight mailbox.limit ${mailboxLimit}: ` +
      `${this.published.length} events published${this.closed ? `, topic closed after ${this.closeCount}` : ''}`
  }

  report (): string {
    return `[${this.header()}]\n  ${this.failures.join('\n  ')}\n  trace:\n    ${this.trace.slice(-60).join('\n    ')}`
  }
}

/** A run that broke the property: the message says what, `run` holds the failures and the trace. */
class RunFailure extends Error {
  constructor (readonly run: Run) {
    super(run.report())
  }
}

/** What the runs exercised, summed over a property's runs: a pass that exercised nothing says so. */
interface Tally { runs: number, published: number, delivered: number, connections: number, resets: number, overflows: number, replays: number, closed: number, got204: number }
const newTally = (): Tally => ({ runs: 0, published: 0, delivered: 0, connections: 0, resets: 0, overflows: 0, replays: 0, closed: 0, got204: 0 })

async function runScenario (kind: BrokerKind, scenario: Scenario, tally: Tally): Promise<void> {
  const run = new Run(kind, scenario)
  const started = Date.now()
  await run.execute()
  tally.runs++
  tally.published += run.published.length
  tally.delivered += run.clients.reduce((sum, c) => sum + c.log.filter((e) => e.kind === 'event').length, 0)
  tally.connections += run.clients.reduce((sum, c) => sum + c.connections.length, 0)
  tally.resets += run.clients.reduce((sum, c) => sum + c.log.filter((e) => e.kind === 'reset').length, 0)
  tally.overflows += run.stats.overflowDisconnects
  tally.replays += run.stats.replays
  tally.closed += run.closed ? 1 : 0
  tally.got204 += run.clients.filter((c) => c.got204).length
  if (process.env.PROPERTY_VERBOSE === '1') console.error(`${kind.name} run: ${Date.now() - started} ms, ${scenario.steps.length} steps, ${run.published.length} events, ${run.failures.length} failure(s)`)
  if (run.failures.length > 0) throw new RunFailure(run)
}

/** Runs the property and reports a failure with its counterexample, or passes. */
async function checkProperty (t: Test, kind: BrokerKind): Promise<void> {
  const started = Date.now()
  const tally = newTally()
  const details = await fc.check(fc.asyncProperty(scenarioArbitrary, (scenario) => runScenario(kind, scenario, tally)), {
    numRuns: RUNS,
    seed: SEED,
    path: PATH,
    // Bounded in time: past the budget the runs left, and the rest of a shrinking, are skipped
    // (a run in progress is never interrupted, so no socket is left behind).
    skipAllAfterTimeLimit: TIME_BUDGET_MS,
    maxSkipsPerRun: 1000
  })
  const elapsed = Date.now() - started
  // fast-check counts the values skipped once the time budget is spent, and past `maxSkipsPerRun`
  // calls the property failed with no counterexample: that is the budget, not a failure.
  const outOfTime = details.failed && details.counterexample === null && details.errorInstance === null && elapsed >= TIME_BUDGET_MS
  if (!details.failed || outOfTime) {
    t.pass(`${kind.name}: ${details.numRuns} runs (${details.numSkips} skipped for time) in ${elapsed} ms, seed ${details.seed}: ` +
      `${tally.published} events published, ${tally.delivered} delivered over ${tally.connections} connections, ${tally.replays} resumes, ` +
      `${tally.resets} legitimate resets, ${tally.overflows} overflow disconnects, ${tally.closed} topics closed, ${tally.got204} 204s`)
    return
  }
  const error = details.errorInstance
  const run = error instanceof RunFailure ? error.run : undefined
  const first = run?.failures[0].split('\n')[0] ?? String(error)
  t.fail(`${kind.name} broker: ${first}`, {
    diagnostic: true,
    summary: `the property failed after ${details.numRuns} run(s) and ${details.numShrinks} shrink(s), in ${elapsed} ms`,
    replay: `PROPERTY_SEED=${details.seed} PROPERTY_PATH=${details.counterexamplePath}`,
    counterexample: fc.stringify(details.counterexample),
    run: run?.header(),
    failures: run?.failures ?? [String((error as Error)?.stack ?? error)],
    trace: run?.trace.slice(-80)
  })
}

t.test('property: random publish, subscribe, reconnect, closeTopic and overflow, memory broker', async (t) => {
  await checkProperty(t, memoryKind)
})

const redisUp = await redisAvailable(t)
if (redisUp) {
  t.test('property: random publish, subscribe, reconnect, closeTopic and overflow, Redis broker (two instances)', async (t) => {
    const admin = new Redis(redisUrl)
    t.teardown(() => admin.quit())
    await checkProperty(t, redisKind(admin))
  })
}

// ---- issue 9 item 2, on its own ------------------------------------------------------------------

/** Item 2: a client more than `mailbox.limit` events behind resumes completely (DESIGN "Replay"). */
async function farBehind (t: Test, kind: BrokerKind, route: 'tight' | 'tight-async', behind: number): Promise<void> {
  const limit = 10
  const { brokers, cleanup } = kind.make(1000)
  const instances: Array<{ app: FastifyInstance, url: string }> = []
  t.teardown(async () => {
    await Promise.all(instances.map(({ app }) => app.close()))
    await cleanup()
  })
  for (const broker of brokers) instances.push(await startInstance(broker, limit))
  const first = await openWire(`${instances[0].url}/${route}`)
  for (let i = 0; i < 100 && first.lastEventId === ''; i++) await sleep(5)
  t.not(first.lastEventId, '', 'the stream says its cursor at once')
  const id = first.lastEventId
  first.close()
  await sleep(20)
  for (let n = 1; n <= behind; n++) await instances[n % instances.length].app.sse.publish(TOPIC, { n })
  const seen: number[] = []
  const others: string[] = []
  const connections: string[] = []
  let lastEventId = id
  const deadline = Date.now() + 3000
  // Like EventSource: a stream that ends is asked again, with the last id seen.
  for (let attempt = 0; attempt < 5 && seen.length < behind && Date.now() < deadline; attempt++) {
    const wire = await openWire(`${instances[instances.length - 1].url}/${route}`, {
      lastEventId,
      onEvent: (event) => {
        if (event.type === 'message') seen.push(JSON.parse(event.data).n)
        else others.push(event.type)
      }
    })
    while (!wire.isEnded && seen.length < behind && Date.now() < deadline) await sleep(5)
    connections.push(`#${attempt + 1}: ${wire.status}, ${wire.events.length} events, ${wire.retries.length > 0 ? `retry: ${wire.retries.join(',')}, ` : ''}${wire.isEnded ? `ended (${wire.endReason})` : 'open'}`)
    lastEventId = wire.lastEventId
    wire.close()
  }
  t.same(others, [], 'no event: reset (the history holds all of them)')
  t.same(seen, Array.from({ length: behind }, (_, i) => i + 1),
    `a client ${behind} events behind (mailbox.limit ${limit}, history 1000) gets all of them exactly once: got ${seen.length} of ${behind}; connections: ${connections.join('; ')}`)
}

t.test('item 2: a client more than mailbox.limit events behind still resumes completely (replay is paged, not counted against the mailbox)', async (t) => {
  const kinds: BrokerKind[] = [memoryKind]
  if (redisUp) {
    const admin = new Redis(redisUrl)
    t.teardown(() => admin.quit())
    kinds.push(redisKind(admin))
  }
  for (const kind of kinds) {
    for (const route of ['tight', 'tight-async'] as const) {
      await t.test(`${kind.name} broker, /${route}: 50 events behind, mailbox.limit 10`, (t) => farBehind(t, kind, route, 50))
    }
  }
})

// ---- found by this property: a highWaterMark below the socket's own -------------------------------

t.test('a stream whose highWaterMark is below the socket\'s own (16 KiB) still drains to a client that reads', async (t) => {
  // Found by the property above (memory broker, /tight): the writer stops at `highWaterMark` bytes
  // pending and waits for the socket's 'drain', which a socket below its own high-water mark never
  // emits. The client reads everything and still gets nothing more until `drainTimeout`.
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: false })
  app.get('/small-hwm', { chunk: { highWaterMark: 1024 }, handler: topics(() => ['hwm']) })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const wire = await openWire(`${url}/small-hwm`)
  t.teardown(() => wire.close())
  for (let i = 0; i < 100 && wire.lastEventId === ''; i++) await sleep(5)
  const pad = 'y'.repeat(2048)
  await Promise.all(Array.from({ length: 15 }, (_, i) => app.sse.publish('hwm', { n: i + 1, pad })))
  for (let n = 16; n <= 25; n++) await app.sse.publish('hwm', { n })
  const deadline = Date.now() + 2000
  while (wire.events.length < 25 && !wire.isEnded && Date.now() < deadline) await sleep(5)
  t.same(wire.events.map((e) => JSON.parse(e.data).n), Array.from({ length: 25 }, (_, i) => i + 1),
    `every event reaches a reading client within 2 s (highWaterMark 1024): got ${wire.events.length} of 25, stream ${wire.isEnded ? `ended (${wire.endReason})` : 'still open'}`)
})
