// Prints the functions with the most self time in a .cpuprofile (`npm run bench -- --cpu-prof fanout`
// writes one per server and round, covering the measured bursts):
//   npx tsx bench/profile-summary.ts bench/results/plugin-relay-r1-fanout.cpuprofile [top]

import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
}

interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [path, topArg] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]')
const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map<string, number>()
let total = 0
// Sample i lasted timeDeltas[i + 1]; attribute it to the sampled node's function.
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i])!
  const dt = profile.timeDeltas[i + 1] ?? 0
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.replace(/^.*\/(node_modules|lib|bench)\//, '$1/').replace(/^node:/, '')
  const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + dt)
  total += dt
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30))
for (const [key, us] of top) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${(100 * us / total).toFixed(1).padStart(5)}%  ${key}`)
console.log(`${(total / 1000).toFixed(1).padStart(8)} ms total`)
