// Parser throughput: ours against eventsource-parser, on the same bytes in the same process.
//
// Both get what a socket gives: Buffers. eventsource-parser takes text, so it is given a streaming
// TextDecoder in front, the way eventsource@4 and its own EventSourceParserStream use it. One extra
// scenario feeds text that is already decoded, to show the parser core alone.
//
//   npx tsx bench/parser.ts [--quick]

import { pathToFileURL } from 'node:url'
import { createParser as createTheirs } from 'eventsource-parser'
import { createParser } from '../lib/client/index.js'

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
  /** ours / theirs, in throughput. */
  ratio: number
}

interface Scenario {
  name: string
  chunks: Array<Buffer | string>
  bytes: number
}

type Run = (chunks: Array<Buffer | string>) => { count: number, last: string }

const runOurs: Run = (chunks) => {
  let count = 0
  let last = ''
  const parser = createParser({ onEvent (event) { count++; last = event.data } })
  for (const chunk of chunks) parser.feed(chunk)
  parser.end()
  return { count, last }
}

const runTheirs: Run = (chunks) => {
  let count = 0
  let last = ''
  const decoder = new TextDecoder()
  const parser = createTheirs({ onEvent (event) { count++; last = event.data } })
  for (const chunk of chunks) parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
  parser.reset()
  return { count, last }
}

function smallEvents (count: number): string {
  let text = ''
  for (let i = 0; i < count; i++) {
    text += `id: ${i}\nevent: quote\ndata: {"seq":${i},"symbol":"ACME","bid":${100 + (i % 97) / 100},"ask":${101 + (i % 89) / 100},"at":"2026-01-01T00:00:00.000Z"}\n\n`
  }
  return text
}

// A JSON array of `size` bytes; `text` is the name in each row: ASCII or not changes how it decodes.
function largeEvents (count: number, size: number, text: string): string {
  const row = `{"id":1234,"name":"${text}","tags":["a","b","c"],"score":0.75},`
  const data = '[' + row.repeat(Math.ceil(size / row.length)).slice(0, size - 2) + ']'
  let stream = ''
  for (let i = 0; i < count; i++) stream += `id: ${i}\nevent: snapshot\ndata: ${data}\n\n`
  return stream
}

function split (bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  // Copies, as a socket gives fresh buffers.
  for (let at = 0; at < bytes.length; at += size) chunks.push(Buffer.from(bytes.subarray(at, at + size)))
  return chunks
}

function scenarios (quick: boolean): Scenario[] {
  const small = Buffer.from(smallEvents(quick ? 5_000 : 20_000))
  const large = Buffer.from(largeEvents(quick ? 30 : 100, 64 * 1024, 'cafe au lait'))
  const largeText = Buffer.from(largeEvents(quick ? 30 : 100, 64 * 1024, 'caf\u00e9 cr\u00e8me \u4e2d\u6587'))
  const tiny = small.subarray(0, quick ? 100_000 : 400_000)
  const oneEventPerRead = small.toString('latin1').split(/(?<=\n\n)/).map((event) => Buffer.from(event, 'latin1'))
  return [
    { name: 'small events, 16 KB reads', chunks: split(small, 16 * 1024), bytes: small.length },
    { name: 'small events, one per read', chunks: oneEventPerRead, bytes: small.length },
    { name: 'large events (64 KB ASCII), 16 KB reads', chunks: split(large, 16 * 1024), bytes: large.length },
    { name: 'large events (64 KB, non-ASCII), 16 KB reads', chunks: split(largeText, 16 * 1024), bytes: largeText.length },
    { name: 'tiny reads (5 bytes)', chunks: split(tiny, 5), bytes: tiny.length },
    { name: 'text, already decoded (parser core)', chunks: [small.toString('utf8')], bytes: small.length }
  ]
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const runners = { ours: runOurs, theirs: runTheirs } as const

// Every scenario through both parsers a few times first, so that the measured rounds see the code as
// a long-lived process would: optimized for every kind of input, not just for the first one it met.
function warmUp (all: Scenario[], rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (const scenario of all) {
      const ours = runOurs(scenario.chunks)
      const theirs = runTheirs(scenario.chunks)
      if (ours.count !== theirs.count || ours.last !== theirs.last) {
        throw new Error(`${scenario.name}: ${ours.count} events from ours, ${theirs.count} from eventsource-parser`)
      }
    }
  }
}

function measure (scenario: Scenario, rounds: number): ParserBenchResult {
  const times: Record<keyof typeof runners, number[]> = { ours: [], theirs: [] }
  let events = 0
  for (let round = 0; round < rounds; round++) {
    // Alternate, so that both see the same machine noise.
    for (const who of ['ours', 'theirs'] as const) {
      const start = process.hrtime.bigint()
      events = runners[who](scenario.chunks).count
      times[who].push(Number(process.hrtime.bigint() - start) / 1e9)
    }
  }
  const rate = (seconds: number): { mbPerSec: number, eventsPerSec: number } =>
    ({ mbPerSec: scenario.bytes / 1e6 / seconds, eventsPerSec: events / seconds })
  const ours = rate(median(times.ours))
  const theirs = rate(median(times.theirs))
  return { scenario: scenario.name, bytes: scenario.bytes, events, ours, theirs, ratio: ours.mbPerSec / theirs.mbPerSec }
}

function table (results: ParserBenchResult[]): string {
  const head = ['scenario', 'ours MB/s', 'theirs MB/s', 'ours events/s', 'theirs events/s', 'ours/theirs']
  const rows = results.map((r) => [
    r.scenario,
    r.ours.mbPerSec.toFixed(0),
    r.theirs.mbPerSec.toFixed(0),
    Math.round(r.ours.eventsPerSec).toLocaleString('en-US'),
    Math.round(r.theirs.eventsPerSec).toLocaleString('en-US'),
    r.ratio.toFixed(2) + 'x'
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export async function runParserBench (options: ParserBenchOptions = {}): Promise<ParserBenchResult[]> {
  const quick = options.quick ?? false
  const log = options.log ?? console.log
  const rounds = quick ? 7 : 21
  const all = scenarios(quick)
  warmUp(all, quick ? 3 : 5)
  const results = all.map((scenario) => measure(scenario, rounds))
  log(`Event stream parser: ours vs eventsource-parser, median of ${rounds} rounds\n`)
  log(table(results))
  return results
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runParserBench({ quick: process.argv.includes('--quick') })
}
