/** A message a WebSocket client sent: in the mailbox, in order with every other message. */
export class ClientMessage {
  /** A text message as a string, a binary one as bytes. */
  constructor (readonly data: string | Uint8Array) {}
}

export function isClientMessage (msg: unknown): msg is ClientMessage {
  return msg instanceof ClientMessage
}
