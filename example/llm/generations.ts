// The producer side of a resumable generation: one upstream request per generation, owned by the
// app (not by any reply), its tokens published on the generation's own topic, the topic closed when
// the answer ends. Readers come and go; the generation does not notice them.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { createParser } from '../../lib/client/index.js'
import { Event } from '../../lib/index.js'

export const topicOf = (id: string): string => `generation:${id}`

export interface GenerationRequest {
  prompt: string
  maxTokens: number
}

/** What the POST answers when the model refused: nothing of the upstream's own text or address. */
export class ModelRefused extends Error {
  readonly statusCode = 502
  constructor (cause: unknown) {
    super('the model did not accept the request', { cause })
  }
}

// How long the model may take to answer its headers, and to send its next chunk: a model that goes
// silent must not leave readers waiting on a topic nobody will close.
const HEADERS_TIMEOUT = 30_000
const IDLE_TIMEOUT = 30_000

export class Generations {
  /** In flight on this instance: aborted (and their topics closed) when the app closes. */
  readonly #running = new Map<string, { controller: AbortController, relayed: Promise<void> }>()

  constructor (readonly app: FastifyInstance, readonly upstreamUrl: string, readonly headers: Record<string, string> = {}) {}

  get running (): number {
    return this.#running.size
  }

  /**
   * Opens the upstream and resolves with the generation's id once the model answered 200 (so a
   * refusal is the POST's own 502); the tokens are then read and published in the background.
   */
  async start ({ prompt, maxTokens }: GenerationRequest): Promise<string> {
    const id = randomUUID()
    const controller = new AbortController()
    let response
    try {
      response = await request(this.upstreamUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...this.headers },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: maxTokens, messages: [{ role: 'user', content: prompt }] }),
        signal: controller.signal,
        headersTimeout: HEADERS_TIMEOUT,
        bodyTimeout: IDLE_TIMEOUT
      })
    } catch (error) {
      throw new ModelRefused(error)
    }
    if (response.statusCode !== 200) {
      await response.body.dump()
      throw new ModelRefused(new Error(`upstream status ${response.statusCode}`))
    }
    // Not awaited: the generation outlives the POST, and every reader of it. #relay never rejects.
    const relayed = this.#relay(id, response.body, controller.signal).finally(() => this.#running.delete(id))
    this.#running.set(id, { controller, relayed })
    return id
  }

  /** Publishes each token in order (each publish awaited: the topic's order is the model's), then closes the topic. */
  async #relay (id: string, body: AsyncIterable<Buffer> & { destroy: () => void }, signal: AbortSignal): Promise<void> {
    const topic = topicOf(id)
    const log = this.app.log.child({ generation: id })
    let pending: string[] = []
    let done = false
    const parser = createParser({ onEvent: (event) => { pending.push(event.data) } })
    let count = 0
    try {
      for await (const bytes of body) {
        parser.feed(bytes)
        const batch = pending
        pending = []
        for (const data of batch) {
          if (data === '[DONE]') { done = true; break }
          const content: unknown = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> }).choices?.[0]?.delta?.content
          if (typeof content !== 'string' || content === '') continue // role-only and empty chunks
          await this.app.sse.publish(topic, content, { event: 'token' })
          count++
        }
        if (done) break
      }
    } catch (error) {
      if (!signal.aborted) log.warn({ err: error, tokens: count }, 'the generation failed')
    } finally {
      body.destroy() // [DONE] ends the answer, whether or not the upstream ends its response
    }
    // Readers learn how it ended from the last event; the tombstone then answers 204 to a reconnect.
    const final = done
      ? new Event({ event: 'done', data: { tokens: count } })
      : new Event({ event: 'error', data: { tokens: count, reason: signal.aborted ? 'interrupted' : 'model failed' } })
    try {
      await this.app.sse.closeTopic(topic, final)
    } catch (error) {
      log.error({ err: error }, 'the generation\'s topic could not be closed')
    }
  }

  /** Ends every generation of this instance (the app is closing): their readers get `event: error`. */
  async abortAll (): Promise<void> {
    const running = [...this.#running.values()]
    for (const { controller } of running) controller.abort()
    // Each relay closes its own topic once its read loop has seen the abort.
    await Promise.all(running.map(({ relayed }) => relayed))
  }
}
