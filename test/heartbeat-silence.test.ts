import fc from 'fast-check'
import t from 'tap'
import { type Beating, HeartbeatScheduler, tickStream } from '../lib/actor/heartbeat.js'

// The heartbeat rule on a simulated clock: an interval of 100 units, a tick every 10. Writes come at
// any time; a beat may be refused (bytes pending) at any tick. Each run records when bytes left.
const INTERVAL = 100
const TICK = INTERVAL / 10

interface Run { bytes: number[], beats: number[], refusedAt: Set<number> }

function simulate (writes: number[], refusals: number[], ticks: number): Run {
  const refusedAt = new Set(refusals.map((n) => n * TICK))
  const run: Run = { bytes: [0], beats: [], refusedAt }
  let now = 0
  const stream: Beating = {
    wroteSinceTick: true, // the head, written at 0 when the stream joined
    idleTicks: 0,
    beat () {
      if (refusedAt.has(now)) return false
      run.bytes.push(now)
      run.beats.push(now)
      return true
    }
  }
  const pending = [...writes].sort((a, b) => a - b)
  for (let k = 1; k <= ticks; k++) {
    const tickAt = k * TICK
    // A write at the tick's very instant lands before it.
    while (pending.length > 0 && pending[0] <= tickAt) {
      now = pending.shift()!
      stream.wroteSinceTick = true
      run.bytes.push(now)
    }
    now = tickAt
    tickStream(stream)
  }
  return run
}

const schedule = fc.record({
  writes: fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 40 }),
  refusals: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 30 })
})

t.test('heartbeat: whatever the writes, no silence is longer than the interval when every beat can go out', async () => {
  fc.assert(fc.property(schedule, ({ writes }) => {
    const { bytes } = simulate(writes, [], 200)
    bytes.push(200 * TICK) // the silence still running at the end counts too
    for (let i = 1; i < bytes.length; i++) {
      if (bytes[i] - bytes[i - 1] > INTERVAL) throw new Error(`silent from ${bytes[i - 1]} to ${bytes[i]}`)
    }
  }))
})

t.test('heartbeat: a beat never comes before 0.9 of the interval of silence, and an idle stream beats once an interval', async (t) => {
  fc.assert(fc.property(schedule, ({ writes, refusals }) => {
    const { bytes, beats } = simulate(writes, refusals, 200)
    for (const beat of beats) {
      const before = bytes[bytes.indexOf(beat) - 1]
      if (beat - before < INTERVAL - TICK) throw new Error(`a beat at ${beat}, only ${beat - before} after a byte`)
    }
  }))
  t.same(simulate([], [], 35).beats, [100, 200, 300], 'idle: exactly once an interval')
})

t.test('heartbeat: a refused beat goes out at the first tick after it that takes it, no later', async () => {
  fc.assert(fc.property(schedule, ({ writes, refusals }) => {
    const { bytes, beats, refusedAt } = simulate(writes, refusals, 200)
    for (let i = 0; i + 1 < bytes.length; i++) {
      const from = bytes[i]
      // Due at the tenth tick, counting the one that saw the write (ticks start at 1); a beat is a tick's own.
      const due = beats.includes(from) ? from + 10 * TICK : Math.max(1, Math.ceil(from / TICK)) * TICK + 9 * TICK
      let goes = due
      while (refusedAt.has(goes)) goes += TICK
      if (goes <= 200 * TICK && bytes[i + 1] > goes) throw new Error(`silent from ${from} past ${goes}, a tick that takes a beat`)
    }
  }))
})

t.test('heartbeat: a stream joins as just written to (its head), so its first beat is within the interval too', async (t) => {
  const scheduler = new HeartbeatScheduler()
  const stream: Beating = { wroteSinceTick: false, idleTicks: 0, beat: () => true }
  scheduler.add(stream, 1000)
  t.equal(stream.wroteSinceTick, true)
  scheduler.remove(stream, 1000)
  t.equal(scheduler.timers, 0)
})
