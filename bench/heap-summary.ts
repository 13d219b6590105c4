// Compares two heap snapshots (`npm run bench -- --heap-snapshot` writes one before and one after
// opening the idle streams) and prints what grew, by constructor, in bytes per stream:
//   npx tsx bench/heap-summary.ts before.heapsnapshot after.heapsnapshot STREAMS [top]

import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

/** Self size and count per "type:name" (name is the constructor for objects). */
function aggregate (path: string): Map<string, { bytes: number, count: number }> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Snapshot
  const fields = data.snapshot.meta.node_fields
  const types = data.snapshot.meta.node_types[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const totals = new Map<string, { bytes: number, count: number }>()
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]]
    // Strings and code are named by their content: group them by type alone.
    const name = type === 'object' || type === 'closure' || type === 'native' ? data.strings[data.nodes[i + nameAt]] : ''
    const key = `${type}:${name.slice(0, 60)}`
    const entry = totals.get(key) ?? { bytes: 0, count: 0 }
    entry.bytes += data.nodes[i + sizeAt]
    entry.count++
    totals.set(key, entry)
  }
  return totals
}

const [beforePath, afterPath, streamsArg, topArg] = process.argv.slice(2)
if (afterPath === undefined || streamsArg === undefined) throw new Error('usage: heap-summary.ts BEFORE AFTER STREAMS [top]')
const streams = Number(streamsArg)
const before = aggregate(beforePath)
const after = aggregate(afterPath)
const grown: Array<[string, number, number]> = []
let total = 0
for (const [key, { bytes, count }] of after) {
  const base = before.get(key) ?? { bytes: 0, count: 0 }
  const delta = bytes - base.bytes
  total += delta
  if (delta !== 0) grown.push([key, delta / streams, (count - base.count) / streams])
}
grown.sort((a, b) => b[1] - a[1])
for (const [key, bytes, count] of grown.slice(0, Number(topArg ?? 40))) {
  console.log(`${bytes.toFixed(1).padStart(9)} B/stream ${count.toFixed(2).padStart(7)} objects/stream  ${key}`)
}
console.log(`${(total / streams).toFixed(1).padStart(9)} B/stream in all (JS heap only: not external memory)`)
