import type { EventPayload } from './broker/types.js'
import { IdReservedError, PublishFailedError } from './errors.js'
import { encodeEntry } from './protocol/cursor.js'
import { Event } from './protocol/event.js'
import type { Runtime } from './runtime.js'
import type { SseDecorator, SseStats } from './types.js'

/** An Event or plain data, as a broker carries it: serialized once, here. */
function toPayload (value: unknown, eventName: string | undefined): EventPayload {
  const event = value instanceof Event ? value : new Event({ data: value, event: eventName })
  if (event.id !== undefined) throw new IdReservedError()
  return { event: event.event ?? eventName, data: event.data ?? '' }
}

function hasSseCode (error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('SSE_ERR_')
}

/** `app.sse`: reaches the streams of this instance, and through the broker those of every instance. */
export function createSseDecorator (runtime: Runtime): SseDecorator {
  return {
    async publish (topic, data, options) {
      const payload = toPayload(data, options?.event)
      try {
        const position = await runtime.broker.publish(topic, payload)
        return encodeEntry(topic, position)
      } catch (error) {
        if (hasSseCode(error)) throw error
        throw new PublishFailedError(topic, (error as Error)?.message ?? String(error), { cause: error })
      }
    },
    notify (connectionId, msg) {
      return runtime.byId.get(connectionId)?.notify(msg) ?? false
    },
    async closeTopic (topic, final) {
      await runtime.broker.closeTopic(topic, final === undefined ? undefined : toPayload(final, undefined))
    },
    get connections () {
      return runtime.streams.size
    },
    stats (): SseStats {
      return { ...runtime.stats, connections: runtime.streams.size }
    }
  }
}
