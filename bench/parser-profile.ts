// One parser on one scenario of the parser bench, in a loop, for `node --cpu-prof`; after the bench's
// own warm-up on every scenario, so that the code is what the bench measures, not what one input makes:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/parser-profile.ts ours '1 MiB events, 16 KiB reads, bytes' [seconds]
//   npx tsx bench/profile-summary.ts "$(ls -S /tmp/prof/*.cpuprofile | head -1)"   (tsx's loader thread writes the other)

import { runners, warmUp } from './parser.js'
import { parserScenarios } from './parser-inputs.js'

const [who = 'ours', name = '', seconds = '5'] = process.argv.slice(2)
const run = runners[who as keyof typeof runners]
const scenario = parserScenarios(false).find((s) => s.name === name)
if (run === undefined || scenario === undefined) {
  throw new Error(`usage: parser-profile.ts ours|theirs SCENARIO [seconds]; scenarios: ${parserScenarios(true).map((s) => s.name).join('; ')}`)
}
warmUp(parserScenarios(false), 5)
const until = Date.now() + Number(seconds) * 1000
let rounds = 0
while (Date.now() < until) {
  run(scenario.chunks)
  rounds++
}
console.log(`${who}: ${rounds} rounds, ${(rounds * scenario.bytes / 1e6 / Number(seconds)).toFixed(0)} MB/s`)
