// Options of the cross-instance benchmark: from the command line, or given by a caller (bench/run.ts).

export interface RedisBenchOptions {
  /** Fewer clients, rounds, bursts and paced events: under a minute. */
  quick: boolean
  redisUrl: string
  /** Rounds; each runs every broker setup once, in alternating order. */
  rounds: number
  /** Instances sharing Redis; the memory setup always has one, with as many clients in total. */
  instances: number
  /** Streams per instance (the memory instance gets instances × this). */
  clientsPerInstance: number
  /** Events per fan-out burst, their data size in bytes, measured bursts per round. */
  events: number
  size: number
  bursts: number
  /** Paced latency: events per second and how many. */
  rate: number
  latencyEvents: number
  /** How far behind the reconnecting client is, and how many reconnects per round. */
  replayEvents: number
  replayRounds: number
  /** Wait bound for each step (ms). */
  timeoutMs: number
  out: string
  log: (line: string) => void
}

export function defaultOptions (quick: boolean): RedisBenchOptions {
  return {
    quick,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    rounds: quick ? 1 : 5,
    instances: 3,
    clientsPerInstance: quick ? 100 : 300,
    // 900 streams x 500 events: about as many deliveries per burst as the main suite's 2000 x 200.
    events: 500,
    size: 100,
    bursts: quick ? 2 : 3,
    rate: 100,
    latencyEvents: quick ? 100 : 300,
    replayEvents: 1000,
    replayRounds: quick ? 5 : 11,
    timeoutMs: 30_000,
    out: 'bench/results/redis-latest.json',
    log: console.log
  }
}

function value (args: string[], name: string): string | undefined {
  const at = args.indexOf(name)
  return at === -1 ? undefined : args[at + 1]
}

function integer (args: string[], name: string, fallback: number, min: number): number {
  const raw = value(args, name)
  if (raw === undefined) return fallback
  const parsed = Number(raw)
  if (!Number.isSafeInteger(parsed) || parsed < min) throw new Error(`${name} takes an integer >= ${min}, got ${raw}`)
  return parsed
}

export function parseRedisOptions (args: string[]): RedisBenchOptions {
  const base = defaultOptions(args.includes('--quick'))
  return {
    ...base,
    redisUrl: value(args, '--redis') ?? base.redisUrl,
    rounds: integer(args, '--rounds', base.rounds, 1),
    instances: integer(args, '--instances', base.instances, 2),
    clientsPerInstance: integer(args, '--clients', base.clientsPerInstance, 1),
    events: integer(args, '--events', base.events, 1),
    size: integer(args, '--size', base.size, 32),
    bursts: integer(args, '--bursts', base.bursts, 1),
    rate: integer(args, '--rate', base.rate, 1),
    latencyEvents: integer(args, '--latency-events', base.latencyEvents, 1),
    replayEvents: integer(args, '--replay-events', base.replayEvents, 1),
    replayRounds: integer(args, '--replay-rounds', base.replayRounds, 1),
    timeoutMs: integer(args, '--timeout', base.timeoutMs, 1000),
    out: value(args, '--out') ?? base.out
  }
}

export const redisUsage = `npx tsx bench/redis.ts [--quick] [--redis URL] [--rounds N] [--instances N] [--clients N per instance]
  [--events N] [--size BYTES] [--bursts N] [--rate N] [--latency-events N] [--replay-events N] [--replay-rounds N]
  [--timeout MS] [--out FILE]`
