import { ClientStatusError } from '../client/errors.js'
import { discard, requestFollowing } from '../client/redirect.js'
import { ResumableStream, type StreamRequest } from '../client/resumable-stream.js'
import type { UpstreamEvent } from './options.js'

/** An open upstream, read one item at a time: an event (SSE) or a body chunk (raw). */
export interface Upstream {
  readonly items: AsyncIterator<UpstreamEvent | Buffer, unknown>
  /** The `retry:` written when the upstream ends (the upstream's own on SSE); undefined: none. */
  retry (): number | undefined
}

// As ResumableStream's: long enough for a slow server to open, short enough not to hang on a dead one.
const HEADERS_TIMEOUT = 30_000

/** Opens an SSE upstream with `lastEventId`; null for a 204. Rejects as ResumableStream.open does. */
export async function openEvents (request: StreamRequest, lastEventId: string | undefined, maxEventSize: number, signal: AbortSignal, onChunk?: () => void): Promise<Upstream | null> {
  const stream = new ResumableStream({ lastEventId, maxEventSize, onChunk })
  const { events } = await stream.open(request, signal)
  if (events === null) return null
  return { items: events, retry: () => stream.retry }
}

/**
 * Opens a raw upstream: a 200 of any content type is relayed, a 204 is null, another status rejects
 * with a ClientStatusError. The body's own iterator reads only when pulled (TCP backpressure) and
 * destroys the body when the stream ends.
 */
export async function openRaw (request: StreamRequest, signal: AbortSignal): Promise<Upstream | null> {
  const { statusCode, body } = await requestFollowing(
    { url: new URL(request.url), method: request.method ?? 'GET', headers: request.headers ?? {}, body: request.body },
    // A cross-origin redirect carries none of the caller's headers (credentials), as on SSE.
    { crossOriginHeaders: {}, signal, dispatcher: undefined, headersTimeout: HEADERS_TIMEOUT }
  )
  if (statusCode === 200) return { items: body[Symbol.asyncIterator](), retry: () => undefined }
  discard(body)
  if (statusCode === 204) return null
  throw new ClientStatusError(statusCode)
}

/** The request headers, lowercased so that the caller's win over `contentType` whatever their case. */
export function requestHeaders (contentType: string | undefined, custom: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType }
  if (custom !== undefined) for (const name of Object.keys(custom)) headers[name.toLowerCase()] = custom[name]
  return headers
}
