// `POST /messages`: a chat message, checked by its JSON schema, published to the chat topic.
import type { FastifyInstance } from 'fastify'
import { CHAT_TOPIC } from './chat.js'

export interface ChatMessage {
  user: string
  text: string
}

// Bounded lengths, and at least one visible character in each field.
const body = {
  type: 'object',
  required: ['user', 'text'],
  additionalProperties: false,
  properties: {
    user: { type: 'string', minLength: 1, maxLength: 32, pattern: '\\S' },
    text: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' }
  }
} as const

export function messagesRoute (app: FastifyInstance): void {
  app.post<{ Body: ChatMessage }>('/messages', { schema: { body } }, async (request, reply) => {
    const { user, text } = request.body
    // The position is the event's place in the topic, for logs; the stream ids are the plugin's.
    const position = await app.sse.publish(CHAT_TOPIC, { user, text, at: new Date().toISOString() }, { event: 'message' })
    return reply.code(201).send({ position })
  })
}
