import { validateTopic } from './broker/validate.js'
import type { EventPayload } from './broker/types.js'
import { refuseUnknownKeys } from './check-keys.js'
import { IdReservedError, InvalidFieldError, PublishFailedError } from './errors.js'
import { encodeEntry } from './protocol/cursor.js'
import { checkChunks } from './protocol/encoders.js'
import { checkFieldValue, Event } from './protocol/event.js'
import type { Runtime } from './runtime.js'
import type { SseDecorator, SseStats } from './types.js'

/**
 * An Event or plain data, as a broker carries it: every field checked and the data serialized once,
 * here, before anything is stored. A topic event carries a name and data only: an Event with an `id`
 * (the plugin owns it), a `retry` or a `comment` is refused rather than silently cut down.
 */
function toPayload (value: unknown, eventName: string | undefined, serialize: (data: unknown) => string): EventPayload {
  if (eventName !== undefined) checkFieldValue('event', eventName)
  if (!(value instanceof Event)) return { event: eventName, data: serialized(value, serialize) }
  if (value.id !== undefined) throw new IdReservedError()
  if (value.retry !== undefined) throw new InvalidFieldError('retry', 'a topic event cannot carry a retry')
  if (value.data === undefined) throw new InvalidFieldError('data', 'a topic event needs data (a comment cannot be published)')
  if (value.comment !== undefined) throw new InvalidFieldError('comment', 'a topic event cannot carry a comment')
  if (eventName !== undefined && value.event !== undefined && value.event !== eventName) {
    throw new InvalidFieldError('event', 'named twice, by the Event and by options.event')
  }
  return { event: value.event ?? eventName, data: value.data }
}

/** Data as text: a string as it is, anything else through the plugin's `serialize`, which must give a string. */
function serialized (value: unknown, serialize: (data: unknown) => string): string {
  if (typeof value === 'string') return value
  if (value === undefined) throw new InvalidFieldError('data', 'an event needs data')
  let text: unknown
  try {
    text = serialize(value)
  } catch (error) {
    throw new InvalidFieldError('data', `it could not be serialized: ${(error as Error)?.message ?? String(error)}`)
  }
  if (typeof text !== 'string') throw new InvalidFieldError('data', `serialize returned ${typeof text}, not a string`)
  return text
}

function hasSseCode (error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('SSE_ERR_')
}

/** `app.sse`: reaches the streams of this instance, and through the broker those of every instance. */
export function createSseDecorator (runtime: Runtime): SseDecorator {
  return {
    async publish (topic, data, options) {
      validateTopic(topic)
      refuseUnknownKeys(options, ['event'], 'publish')
      const payload = toPayload(data, options?.event, runtime.settings.serialize)
      try {
        const position = await runtime.broker.publish(topic, payload)
        return encodeEntry(topic, position)
      } catch (error) {
        if (hasSseCode(error)) throw error
        throw new PublishFailedError(topic, (error as Error)?.message ?? String(error), { cause: error })
      }
    },
    notify (streamId, msg) {
      return runtime.byId.get(streamId)?.notify(msg) ?? false
    },
    send (streamId, chunks) {
      checkChunks(chunks) // before anything is queued: a bad chunk is the caller's error, not the stream's
      return runtime.byId.get(streamId)?.push(chunks) ?? false
    },
    close (streamId, final) {
      if (final !== undefined) checkChunks(final)
      return runtime.byId.get(streamId)?.end(final) ?? false
    },
    async closeTopic (topic, final) {
      validateTopic(topic)
      await runtime.broker.closeTopic(topic, final === undefined ? undefined : toPayload(final, undefined, runtime.settings.serialize))
    },
    async reopenTopic (topic) {
      validateTopic(topic)
      await runtime.broker.reopenTopic(topic)
    },
    get connections () {
      return runtime.streams.size
    },
    stats (): SseStats {
      return { ...runtime.stats, connections: runtime.streams.size }
    }
  }
}
