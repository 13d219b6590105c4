import t from 'tap'
import { HeartbeatScheduler } from '../lib/actor/heartbeat.js'
import { IllegalTransitionError, nextPhase } from '../lib/actor/lifecycle.js'
import { Mailbox } from '../lib/actor/mailbox.js'
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from '../lib/protocol/cursor.js'
import { frameChunk, frameText } from '../lib/protocol/framing.js'
import { memoryBroker } from '../lib/broker/memory.js'

t.test('mailbox: FIFO, compaction, drop-oldest, clear', async (t) => {
  const box = new Mailbox<number>()
  t.equal(box.shift(), undefined)
  for (let i = 0; i < 5000; i++) box.push(i)
  for (let i = 0; i < 3000; i++) t.equal(box.shift(), i)
  t.equal(box.size, 2000)
  t.equal(box.dropOldest((n) => n % 2 === 1), true)
  t.equal(box.shift(), 3000)
  t.equal(box.shift(), 3002)
  t.equal(box.dropOldest(() => false), false)
  t.equal(box.clear(), 1997)
  t.equal(box.size, 0)
})

t.test('stream lifecycle: only legal transitions', async (t) => {
  t.equal(nextPhase('opening', 'open'), 'open')
  t.equal(nextPhase('opening', 'closing'), 'closing')
  t.equal(nextPhase('open', 'closing'), 'closing')
  t.equal(nextPhase('closing', 'closed'), 'closed')
  for (const [from, to] of [['open', 'opening'], ['closed', 'open'], ['closing', 'open'], ['opening', 'closed'], ['closed', 'closing']] as const) {
    t.throws(() => nextPhase(from, to), { code: 'SSE_ERR_ILLEGAL_TRANSITION', constructor: IllegalTransitionError })
  }
})

t.test('cursor ids round-trip and refuse what is not theirs', async (t) => {
  const entries = [
    { topic: 'a&b=c\n', cursor: { epoch: 'E_2-x', offset: 0 } },
    { topic: 'not yet read', cursor: undefined },
    { topic: 'room:1', cursor: { epoch: 'e1', offset: 4 } }
  ]
  const id = encodeCursor(entries)
  t.notMatch(id, /[\r\n\0]/)
  t.equal(id, 'a%26b%3Dc%0A=E_2-x.0&room%3A1=e1.4', 'topics are encoded, in the order given')
  t.same(decodeCursor(id), new Map([['a&b=c\n', { epoch: 'E_2-x', offset: 0 }], ['room:1', { epoch: 'e1', offset: 4 }]]))
  for (const bad of [undefined, '', '42', 'x=e.1.', 'x=e', '=e.1', 'x=e!.1', 'x=e.01', 'x=e.-1', '%E0%A4%A=e.1', 'x=e.1&', 'y'.repeat(MAX_CURSOR_LENGTH + 1)]) {
    t.equal(decodeCursor(bad), undefined, String(bad).slice(0, 20))
  }
})

t.test('framing: one HTTP/1.1 chunk', async (t) => {
  t.equal(frameChunk(Buffer.from('hello world, 26 bytes long')).toString(), '1a\r\nhello world, 26 bytes long\r\n')
  const { framed, length } = frameText('héllo')
  t.equal(length, 6)
  t.equal(framed.toString(), '6\r\nhéllo\r\n')
})

t.test('heartbeat: one timer per interval, a beat after ten silent ticks; a beat that cannot go out is tried at the next tick', async (t) => {
  const scheduler = new HeartbeatScheduler()
  let beats = 0
  let refusals = 0
  const quiet = { wroteSinceTick: false, idleTicks: 0, beat: () => { beats++; return true } }
  const busy = { wroteSinceTick: true, idleTicks: 0, beat: () => true }
  // Its bytes are pending the first two times: it is asked again one tick later, not one interval later.
  const pending = { wroteSinceTick: false, idleTicks: 0, beat: () => ++refusals > 2 }
  scheduler.add(quiet, 30)
  scheduler.add(busy, 30)
  scheduler.add(pending, 30)
  t.equal(scheduler.timers, 1)
  for (let i = 0; i < 50 && (beats === 0 || refusals < 3); i++) {
    busy.wroteSinceTick = true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.ok(beats >= 1)
  t.ok(refusals >= 3, 'tried again until it went out')
  t.ok(pending.idleTicks < 10, 'its count started again once it went out')
  scheduler.remove(quiet, 30)
  scheduler.remove(busy, 30)
  scheduler.remove(pending, 30)
  scheduler.remove(busy, 30)
  t.equal(scheduler.timers, 0)
})

t.test('subscription: a jump in offsets or a new epoch is a reset; duplicates are dropped', async (t) => {
  const { Subscription } = await import('../lib/topics/subscription.js')
  const { Published } = await import('../lib/topics/published.js')
  const seen: string[] = []
  const owner = {
    enqueuePublished: (p: InstanceType<typeof Published>) => { seen.push(`${p.position.epoch}.${p.position.offset}`) },
    reset: (topic: string) => { seen.push(`reset ${topic}`) },
    topicClosed: () => {},
    replayMore: () => {},
    replayFailed: () => {},
    log: { warn: () => {} } as never
  }
  const event = (epoch: string, offset: number) => new Published({ topic: 't', epoch, offset, data: 'x' })
  const subscription = new Subscription('t', owner, memoryBroker())
  subscription.deliver(event('e', 6))
  subscription.start({ epoch: 'e', head: 5, events: [], complete: true, closed: false }, undefined)
  for (const [epoch, offset] of [['e', 6], ['e', 7], ['e', 10], ['f', 1]] as const) subscription.deliver(event(epoch, offset))
  t.same(seen, ['e.6', 'e.7', 'reset t', 'e.10', 'reset t', 'f.1'])
})
