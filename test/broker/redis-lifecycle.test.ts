import t from 'tap'
import { waitFor } from 'xstate'
import { type ConnectionPhase, startLifecycle } from '../../lib/redis/lifecycle.js'

// The connection lifecycle alone, without Redis: its catch-up is a function the test controls.

t.test('redis lifecycle: catches up on each connection, retries a failed catch-up, and closes', async (t) => {
  let catchUps = 0
  let failNext = true
  const actor = startLifecycle({
    async catchUp () {
      catchUps++
      if (failNext) {
        failNext = false
        throw new Error('the command connection is still down')
      }
    },
    retryDelay: 1
  })
  t.teardown(() => actor.stop())
  const reach = (state: ConnectionPhase): Promise<unknown> => waitFor(actor, (snapshot) => snapshot.matches(state), { timeout: 10_000 })

  t.ok(actor.getSnapshot().matches('connecting'))
  actor.send({ type: 'ready' })
  await reach('connected')
  t.equal(catchUps, 2, 'the failed catch-up was tried again')

  actor.send({ type: 'sync.failed' })
  t.ok(actor.getSnapshot().matches('retrying'), 'a failed gap fill asks for a catch-up')
  await reach('connected')
  t.equal(catchUps, 3)

  actor.send({ type: 'down' })
  t.ok(actor.getSnapshot().matches('reconnecting'))
  actor.send({ type: 'sync.failed' })
  t.ok(actor.getSnapshot().matches('reconnecting'), 'while down, the reconnection will catch up anyway')
  actor.send({ type: 'ready' })
  await reach('connected')
  t.equal(catchUps, 4)

  actor.send({ type: 'close' })
  t.equal(actor.getSnapshot().status, 'done')
})

t.test('redis lifecycle: a first connection that fails goes to reconnecting', async (t) => {
  const actor = startLifecycle({ catchUp: async () => {}, retryDelay: 1 })
  t.teardown(() => actor.stop())
  actor.send({ type: 'down' })
  t.ok(actor.getSnapshot().matches('reconnecting'))
  actor.send({ type: 'close' })
  t.ok(actor.getSnapshot().matches('closed'))
})
