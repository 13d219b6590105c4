// Parser throughput: ours against eventsource-parser, on the same input in the same process.
//
// Three shapes (bench/parser-inputs.ts): small events in 64 KiB reads, 1 MiB events in 16 KiB reads,
// 100-byte events in 7-byte reads; each fed twice. As bytes, what a socket gives: ours takes them as
// they are; eventsource-parser takes text, so it gets a streaming TextDecoder in front, the way
// eventsource@4 and its own EventSourceParserStream use it. As strings, one per read as a decoder
// gives them: the parser core alone. Rounds alternate between the two, after a warm-up on every
// scenario; the ratio is of median CPU times. A third runner, the floor (bench/parser-floor.ts),
// does only what every parser must on these inputs: floor/theirs is the most an exact parser could
// reach. `--runs N` repeats the whole measurement and prints each ratio's spread: the machine is
// shared, one run proves little.
//
//   npx tsx bench/parser.ts [--quick] [--runs N]

import { pathToFileURL } from 'node:url'
import { createParser as createTheirs } from 'eventsource-parser'
import { createParser } from '../lib/client/index.js'
import { runFloor, type RunResult } from './parser-floor.js'
import { parserScenarios, type Scenario } from './parser-inputs.js'

export interface ParserBenchOptions {
  /** Smaller inputs and fewer rounds: a few seconds. */
  quick?: boolean
  log?: (line: string) => void
}

export interface ParserBenchResult {
  scenario: string
  bytes: number
  events: number
  ours: { mbPerSec: number, eventsPerSec: number }
  theirs: { mbPerSec: number, eventsPerSec: number }
  /** ours / theirs, in throughput per CPU second. */
  ratio: number
  /** The floor (bench/parser-floor.ts) / theirs: the most any exact parser could reach. */
  floorRatio: number
  /** ours / theirs, in throughput per second of wall time. */
  wallRatio: number
}

type Run = (chunks: Array<Buffer | string>) => RunResult

// The last character's code, to be summed: a result the compiler cannot drop.
const read = (data: string): number => data.length === 0 ? 0 : data.charCodeAt(data.length - 1)

// Each consumer reads a character of each event's data: a string the parser handed over as a
// concatenation of pieces is then flattened, as any real consumer's first read (JSON.parse) does, so
// that this cost is measured, not left to the application unseen.
const runOurs: Run = (chunks) => {
  let count = 0
  let sum = 0
  let last = ''
  const parser = createParser({ onEvent (event) { count++; sum += read(event.data); last = event.data } })
  for (const chunk of chunks) parser.feed(chunk)
  parser.end()
  return { count, last, sum }
}

const runTheirs: Run = (chunks) => {
  let count = 0
  let sum = 0
  let last = ''
  const decoder = new TextDecoder()
  const parser = createTheirs({ onEvent (event) { count++; sum += read(event.data); last = event.data } })
  for (const chunk of chunks) parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
  parser.reset()
  return { count, last, sum }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const runFloorOf: Run = (chunks) => runFloor(chunks, read)

export const runners = { ours: runOurs, theirs: runTheirs, floor: runFloorOf } as const

// Every scenario through both parsers and the floor a few times first, so that the measured rounds
// see the code as a long-lived process would: optimized for every kind of input, not just for the
// first one it met. Each must give eventsource-parser's events, or the bench stops.
export function warmUp (all: Scenario[], rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (const scenario of all) {
      const theirs = runTheirs(scenario.chunks)
      for (const who of ['ours', 'floor'] as const) {
        const ours = runners[who](scenario.chunks)
        if (ours.count !== theirs.count || ours.sum !== theirs.sum || ours.last !== theirs.last) {
          throw new Error(`${scenario.name}: ${ours.count} events from ${who}, ${theirs.count} from eventsource-parser`)
        }
      }
    }
  }
}

// CPU time decides, wall time is shown: on a machine shared with other work, wall time also counts
// the moments the process was not running at all, which say nothing of either parser.
function measure (scenario: Scenario, rounds: number): ParserBenchResult {
  const cpu: Record<keyof typeof runners, number[]> = { ours: [], theirs: [], floor: [] }
  const wall: Record<keyof typeof runners, number[]> = { ours: [], theirs: [], floor: [] }
  let events = 0
  for (let round = 0; round < rounds; round++) {
    // Alternate, so that all three see the same machine noise.
    for (const who of ['ours', 'theirs', 'floor'] as const) {
      const startCpu = process.cpuUsage()
      const start = process.hrtime.bigint()
      events = runners[who](scenario.chunks).count
      wall[who].push(Number(process.hrtime.bigint() - start) / 1e9)
      const used = process.cpuUsage(startCpu)
      cpu[who].push((used.user + used.system) / 1e6)
    }
  }
  const rate = (seconds: number): { mbPerSec: number, eventsPerSec: number } =>
    ({ mbPerSec: scenario.bytes / 1e6 / seconds, eventsPerSec: events / seconds })
  const ours = rate(median(cpu.ours))
  const theirs = rate(median(cpu.theirs))
  const wallRatio = median(wall.theirs) / median(wall.ours)
  const floorRatio = median(cpu.theirs) / median(cpu.floor)
  return { scenario: scenario.name, bytes: scenario.bytes, events, ours, theirs, ratio: ours.mbPerSec / theirs.mbPerSec, wallRatio, floorRatio }
}

function table (results: ParserBenchResult[]): string {
  const head = ['scenario', 'ours MB/s', 'theirs MB/s', 'ours events/s', 'theirs events/s', 'ours/theirs', '(wall)', 'floor/theirs']
  const rows = results.map((r) => [
    r.scenario,
    r.ours.mbPerSec.toFixed(0),
    r.theirs.mbPerSec.toFixed(0),
    Math.round(r.ours.eventsPerSec).toLocaleString('en-US'),
    Math.round(r.theirs.eventsPerSec).toLocaleString('en-US'),
    r.ratio.toFixed(2) + 'x',
    r.wallRatio.toFixed(2) + 'x',
    r.floorRatio.toFixed(2) + 'x'
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export async function runParserBench (options: ParserBenchOptions = {}): Promise<ParserBenchResult[]> {
  const quick = options.quick ?? false
  const log = options.log ?? console.log
  const rounds = quick ? 7 : 41
  const all = parserScenarios(quick)
  warmUp(all, quick ? 3 : 5)
  const results = all.map((scenario) => measure(scenario, rounds))
  log(`Event stream parser: ours vs eventsource-parser, median CPU time of ${rounds} rounds (wall time in brackets; floor: lines cut and events made, nothing checked)\n`)
  log(table(results))
  return results
}

function spread (runs: ParserBenchResult[][]): string {
  const range = (ratios: number[]): string =>
    `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x (${ratios.map((r) => r.toFixed(2)).join(' ')})`
  const lines = runs[0].map((first, i) =>
    `${first.scenario.padEnd(46)} ${range(runs.map((run) => run[i].ratio))}  floor ${range(runs.map((run) => run[i].floorRatio))}`)
  return [`ours/theirs over ${runs.length} runs, min-max (each run), and floor/theirs:`, ...lines].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--runs')
  const count = at === -1 ? 1 : Number(process.argv[at + 1])
  const runs: ParserBenchResult[][] = []
  for (let run = 0; run < count; run++) {
    runs.push(await runParserBench({ quick: process.argv.includes('--quick') }))
    console.log('')
  }
  if (count > 1) console.log(spread(runs))
}
