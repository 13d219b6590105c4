import type { CloseReason } from '../types.js'

/** What ending a stream for one reason does, besides releasing what it holds and calling `terminate`. */
export interface CloseRule {
  /** The stream may still be written to: its `final` chunks go out. */
  readonly writable: boolean
  /** What `terminate` returns is written (a goodbye the handler chose). */
  readonly writesTerminate: boolean
  /** The socket is cut rather than ended: the client does not read, so nothing more could reach it. */
  readonly destroys: boolean
  /** The failure counted in `stats()`, if any. */
  readonly counts: 'overflowDisconnects' | undefined
}

// One table for every way a stream ends; the actor applies it and decides nothing else.
export const closeRules: Readonly<Record<CloseReason, CloseRule>> = {
  'client-closed': { writable: false, writesTerminate: false, destroys: false, counts: undefined },
  stopped: { writable: true, writesTerminate: true, destroys: false, counts: undefined },
  shutdown: { writable: true, writesTerminate: true, destroys: false, counts: undefined },
  error: { writable: true, writesTerminate: false, destroys: false, counts: undefined },
  overflow: { writable: false, writesTerminate: false, destroys: true, counts: 'overflowDisconnects' },
  'topic-closed': { writable: true, writesTerminate: false, destroys: false, counts: undefined },
  'upstream-closed': { writable: true, writesTerminate: false, destroys: false, counts: undefined }
}
