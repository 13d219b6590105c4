// Command-line options of `npm run bench`.
import { isServerName, serverNames, type ServerName } from './servers/index.js'

export interface BenchOptions {
  quick: boolean
  rounds: number
  /** Streams for the fan-out, memory, latency and new-streams scenarios. */
  clients: number
  /** Events per fan-out burst, and their data size in bytes. */
  events: number
  size: number
  warmupEvents: number
  /** Measured bursts per server process; the run reports their median. */
  bursts: number
  /** Paced latency scenario: events per second and how many. */
  rate: number
  latencyEvents: number
  /** Streams opened concurrently per batch when ramping up, and when timing new streams. */
  rampBatch: number
  connectBatch: number
  /** The many-streams scenario (0: skipped) and the servers it runs on. */
  bigStreams: number
  bigServers: ServerName[]
  servers: ServerName[]
  /** Wait bound for each step (ms). */
  timeoutMs: number
  /** Profile the server's CPU during this step (a .cpuprofile per server and round in bench/results). */
  cpuProf: 'fanout' | 'connect' | undefined
  heapSnapshot: boolean
  out: string
}

function value (args: string[], name: string): string | undefined {
  const at = args.indexOf(name)
  return at === -1 ? undefined : args[at + 1]
}

function integer (args: string[], name: string, fallback: number): number {
  const raw = value(args, name)
  if (raw === undefined) return fallback
  const parsed = Number(raw)
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`${name} takes a non-negative integer, got ${raw}`)
  return parsed
}

function serverList (raw: string | undefined, fallback: ServerName[]): ServerName[] {
  if (raw === undefined) return fallback
  const names = raw.split(',').filter((name) => name !== '')
  for (const name of names) if (!isServerName(name)) throw new Error(`unknown server ${name}; known: ${serverNames.join(', ')}`)
  return names as ServerName[]
}

function profileStep (raw: string | undefined): BenchOptions['cpuProf'] {
  if (raw === undefined) return undefined
  if (raw !== 'fanout' && raw !== 'connect') throw new Error(`--cpu-prof takes fanout or connect, got ${raw}`)
  return raw
}

export function parseOptions (args: string[]): BenchOptions {
  const quick = args.includes('--quick')
  const servers = serverList(value(args, '--servers'), [...serverNames])
  return {
    quick,
    rounds: integer(args, '--rounds', quick ? 1 : 5),
    clients: integer(args, '--clients', quick ? 500 : 2000),
    events: integer(args, '--events', 200),
    size: integer(args, '--size', 100),
    warmupEvents: integer(args, '--warmup', 50),
    bursts: Math.max(1, integer(args, '--bursts', 3)),
    rate: integer(args, '--rate', 100),
    latencyEvents: integer(args, '--latency-events', quick ? 100 : 300),
    rampBatch: integer(args, '--ramp-batch', 250),
    connectBatch: integer(args, '--connect-batch', 100),
    bigStreams: integer(args, '--big', quick ? 2000 : 10_000),
    bigServers: serverList(value(args, '--big-servers'), ['plugin-relay', 'plugin-handle']).filter((name) => servers.includes(name)),
    servers,
    timeoutMs: integer(args, '--timeout', 60_000),
    cpuProf: profileStep(value(args, '--cpu-prof')),
    heapSnapshot: args.includes('--heap-snapshot'),
    out: value(args, '--out') ?? 'bench/results/latest.json'
  }
}

export const usage = `npm run bench -- [--quick] [--rounds N] [--clients N] [--events N] [--size BYTES]
  [--servers ${serverNames.join(',')}] [--big N] [--big-servers LIST] [--rate N] [--latency-events N]
  [--cpu-prof fanout|connect] [--heap-snapshot] [--out FILE]`
