import { type Actor, createActor, fromPromise, setup } from 'xstate'

export interface LifecycleInput {
  /** Re-subscribes every topic of the connection, then brings each one up to date from its stream. */
  catchUp: () => Promise<void>
  /** ms before a failed catch-up is tried again. */
  retryDelay: number
}

export type LifecycleEvent =
  | { type: 'READY' } // the subscriber connection is (again) up
  | { type: 'DOWN' } // it dropped; ioredis reconnects by itself
  | { type: 'SYNC_FAILED' } // a topic could not fill a gap: it holds its live events until a catch-up
  | { type: 'CLOSE' }

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
  on: { CLOSE: '.closed' },
  states: {
    connecting: { on: { READY: 'catchingUp', DOWN: 'reconnecting' } },
    catchingUp: {
      invoke: { src: 'catchUp', input: ({ context }) => context, onDone: 'connected', onError: 'retrying' },
      on: { DOWN: 'reconnecting', SYNC_FAILED: 'retrying' }
    },
    connected: { on: { DOWN: 'reconnecting', SYNC_FAILED: 'retrying' } },
    retrying: {
      after: { retryDelay: 'catchingUp' },
      on: { DOWN: 'reconnecting' }
    },
    reconnecting: { on: { READY: 'catchingUp' } },
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
