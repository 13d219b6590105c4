// SseClient's supervision, as an Elixir supervisor gives it to a child: which ends are restarted, how
// many restarts are allowed in how long, and the wait before each. The machine (client-machine.ts)
// asks these when the handler's run ends; they hold no state of their own.

import { MIN_RETRY, reconnectDelay } from './backoff.js'
import { ClientInvalidOptionError } from './errors.js'

/**
 * Which ends of a client are restarted from `init`, as in an Elixir child spec: `'temporary'` none,
 * `'transient'` a callback that threw, `'permanent'` also a stop the handler returned (or a 204).
 * `client.stop()` is a shutdown: never restarted.
 */
export type RestartPolicy = 'temporary' | 'transient' | 'permanent'

export interface Supervision {
  restart: RestartPolicy
  maxRestarts: number
  restartWindow: number
}

export const DEFAULT_MAX_RESTARTS = 3
export const DEFAULT_RESTART_WINDOW = 5000

const POLICIES: readonly string[] = ['temporary', 'transient', 'permanent'] satisfies RestartPolicy[]

/** The supervision options checked, with their defaults; a wrong one throws where it is given. */
export function supervisionOptions (options: Partial<Supervision>): Supervision {
  const { restart = 'temporary', maxRestarts = DEFAULT_MAX_RESTARTS, restartWindow = DEFAULT_RESTART_WINDOW } = options
  if (!POLICIES.includes(restart)) {
    throw new ClientInvalidOptionError('restart', `must be one of ${POLICIES.join(', ')}, got ${String(restart)}`)
  }
  if (!(Number.isSafeInteger(maxRestarts) && maxRestarts >= 0)) {
    throw new ClientInvalidOptionError('maxRestarts', `must be an integer >= 0, got ${String(maxRestarts)}`)
  }
  if (!(restartWindow > 0)) {
    throw new ClientInvalidOptionError('restartWindow', `must be a number of ms > 0, got ${String(restartWindow)}`)
  }
  return { restart, maxRestarts, restartWindow }
}

/** Whether the policy restarts this end at all: `crashed` when a callback threw. */
export function restartsOn (supervision: Supervision, crashed: boolean): boolean {
  return supervision.restart === 'permanent' || (supervision.restart === 'transient' && crashed)
}

/**
 * The times (ms, monotonic) of the restarts within the window before `now`, this one added; or
 * undefined when that would be more than `maxRestarts`: the supervisor gives up, as Elixir's does.
 */
export function admitRestart (times: readonly number[], now: number, supervision: Supervision): number[] | undefined {
  const recent = times.filter((at) => now - at < supervision.restartWindow)
  return recent.length < supervision.maxRestarts ? [...recent, now] : undefined
}

/**
 * The wait before the `n`-th restart of a window (n >= 1): the reconnection backoff from MIN_RETRY,
 * so 250-500 ms, then 500-1000 ms, ... with equal jitter. It starts low so that a handler that
 * crashes at once uses up the default 3 restarts well within the default 5 s window (a backoff longer
 * than the window would let it crash forever), and jitters so that many clients crashed by one bad
 * event do not all come back together.
 */
export function restartDelay (n: number, random: () => number = Math.random): number {
  return reconnectDelay(MIN_RETRY, n, random)
}
