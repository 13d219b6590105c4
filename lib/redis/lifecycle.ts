import { type Actor, createActor, fromPromise, setup } from 'xstate'

export interface LifecycleInput {
  /** Re-subscribes every topic of the connection, then brings each one up to date from its stream. */
  catchUp: () => Promise<void>
  /** ms before a failed catch-up is tried again. */
  retryDelay: number
}

export type LifecycleEvent =
  | { type: 'ready' } // the subscriber connection is (again) up
  | { type: 'down' } // it dropped; ioredis reconnects by itself
  | { type: 'sync.failed' } // a topic could not fill a gap: it holds its live events until a catch-up
  | { type: 'close' }

/**
 * A subscriber connection of the Redis broker (its only one, or one per master on a cluster: see
 * subscriber.ts). Each time it comes up, every topic it carries is caught up (nothing published
 * while it was away is lost, within the stream's retention); a catch-up that fails (the command
 * connection may still be down) is tried again after `retryDelay`.
 */
export const connectionLifecycle = setup({
  types: { context: {} as LifecycleInput, input: {} as LifecycleInput, events: {} as LifecycleEvent },
  actors: { catchUp: fromPromise<void, LifecycleInput>(({ input }) => input.catchUp()) },
  delays: { retryDelay: ({ context }) => context.retryDelay }
}).createMachine({
  id: 'redis-broker-connection',
  context: ({ input }) => input,
  initial: 'connecting',
  on: { close: '.closed' },
  states: {
    connecting: { on: { ready: 'catchingUp', down: 'reconnecting' } },
    catchingUp: {
      invoke: { src: 'catchUp', input: ({ context }) => context, onDone: 'connected', onError: 'retrying' },
      on: { down: 'reconnecting', 'sync.failed': 'retrying' }
    },
    connected: { on: { down: 'reconnecting', 'sync.failed': 'retrying' } },
    retrying: {
      after: { retryDelay: 'catchingUp' },
      on: { down: 'reconnecting' }
    },
    reconnecting: { on: { ready: 'catchingUp' } },
    closed: { type: 'final' }
  }
})

export type ConnectionPhase = 'connecting' | 'catchingUp' | 'connected' | 'retrying' | 'reconnecting' | 'closed'

export function startLifecycle (input: LifecycleInput): Actor<typeof connectionLifecycle> {
  const actor = createActor(connectionLifecycle, { input })
  // No action of this machine throws; should one ever, it is reported, not an uncaught exception.
  actor.subscribe({ error: (error) => process.emitWarning(error as Error) })
  return actor.start()
}
