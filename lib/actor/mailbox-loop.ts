import type { SseStats } from '../types.js'
import type { StreamOptions } from './context.js'
import { Mailbox } from './mailbox.js'
import { isKept } from './notices.js'
import { StreamOutput } from './stream-output.js'
import type { StreamWriter } from './writer.js'

/** A message queued outside `mailbox.limit`: a replayed event or a notice. */
class Uncounted {
  constructor (readonly msg: unknown) {}
}

/**
 * A stream's run-to-completion loop: one message at a time, in order, and only while fewer than
 * `highWaterMark` bytes wait on the socket. The mailbox holds the rest, up to `mailbox.limit`
 * (replayed events and the plugin's notices do not count), then the overflow policy applies.
 */
export abstract class MailboxLoop extends StreamOutput {
  /** Made when a message must wait: a stream that keeps up never allocates one. */
  #mailbox: Mailbox<unknown> | undefined
  #uncounted = 0
  /** A message is being handled (maybe awaiting an async `handle`): others wait their turn. */
  #busy = false
  #drainTimer: NodeJS.Timeout | undefined
  #cancelDrainWait: (() => void) | undefined
  // The stream is its loop (one object, not two): the actor extends this class.
  protected constructor (writer: StreamWriter, options: StreamOptions, stats: SseStats) {
    super(writer, stats, options)
  }

  /** Messages are handled only while the stream is open; before, they wait; after, they are refused. */
  abstract readonly phase: 'opening' | 'open' | 'closing' | 'closed'
  /** Handles one message; a promise when the handler is async: the next waits for it. */
  abstract process (msg: unknown): Promise<void> | undefined
  /** The mailbox is empty: what waits for a quiet moment (a moved cursor) may go out. */
  abstract caughtUp (): void
  /** The mailbox is full or the socket stayed full for drainTimeout: the stream ends ('overflow'). */
  abstract overflow (): void

  protected get busy (): boolean {
    return this.#busy
  }

  /** Open, handling nothing, nothing waiting, room on the socket: a message may be handled at once. */
  idle (): boolean {
    return !this.#busy && this.phase === 'open' && (this.#mailbox === undefined || this.#mailbox.size === 0) && this.pending < this.options.highWaterMark
  }

  /** `counted`: the message counts against `mailbox.limit`. False when it was refused or dropped. */
  enqueue (msg: unknown, counted: boolean): boolean {
    const phase = this.phase
    if (phase === 'closing' || phase === 'closed') return false
    if (this.idle()) {
      // Nothing ahead of it: handled at once, without a trip through the mailbox.
      this.#busy = true
      const pending = this.process(msg)
      if (pending !== undefined) {
        pending.then(() => this.#resume(), () => this.#resume())
        return true
      }
      this.#busy = false
      if (this.#mailbox !== undefined && this.#mailbox.size > 0) this.drain()
      else if (this.phase === 'open') this.caughtUp()
      return true
    }
    if (counted && (this.#mailbox?.size ?? 0) - this.#uncounted >= this.options.mailboxLimit && !this.#makeRoom(msg)) return false
    if (!counted) this.#uncounted++
    ;(this.#mailbox ??= new Mailbox()).push(counted ? msg : new Uncounted(msg))
    this.drain()
    return true
  }

  /** The mailbox is full: apply the overflow policy. True when `msg` may still be queued. */
  #makeRoom (msg: unknown): boolean {
    if (this.options.overflow === 'drop-oldest') {
      // Only the handler's own messages are dropped: a dropped topic event would be a silent gap.
      if (this.#mailbox!.dropOldest((queued) => !(queued instanceof Uncounted) && !isKept(queued))) {
        this.stats.messagesDropped++
        return true
      }
      if (!isKept(msg)) {
        this.stats.messagesDropped++
        return false
      }
    }
    this.overflow()
    return false
  }

  drain (): void {
    if (this.#busy || this.phase !== 'open') return
    this.#busy = true
    while (this.phase === 'open') {
      if (this.pending >= this.options.highWaterMark) {
        this.#waitForDrain()
        break
      }
      const mailbox = this.#mailbox
      if (mailbox === undefined || mailbox.size === 0) {
        this.caughtUp()
        break
      }
      let msg = mailbox.shift()
      if (msg instanceof Uncounted) {
        this.#uncounted--
        msg = msg.msg
      }
      const pending = this.process(msg)
      if (pending !== undefined) {
        pending.then(() => this.#resume(), () => this.#resume())
        return
      }
    }
    this.#busy = false
  }

  #resume (): void {
    this.#busy = false
    this.drain()
  }

  #waitForDrain (): void {
    if (this.#drainTimer !== undefined) return
    this.#drainTimer = setTimeout(() => this.overflow(), this.options.drainTimeout)
    this.#cancelDrainWait = this.writer.whenDrained(() => {
      clearTimeout(this.#drainTimer)
      this.#drainTimer = undefined
      this.#cancelDrainWait = undefined
      this.drain()
    })
  }

  /** Stops waiting for the socket and empties the mailbox; returns how many messages were dropped. */
  protected releaseMailbox (): number {
    clearTimeout(this.#drainTimer)
    this.#cancelDrainWait?.()
    this.#drainTimer = undefined
    this.#uncounted = 0
    return this.#mailbox?.clear() ?? 0
  }
}
