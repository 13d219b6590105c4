// The chat room's streams: each one subscribes to the `chat` topic and relays what is published
// there, and can be cut from outside (the admin route) so that a reconnect that resumes can be seen.
import { type ChunkedHandler, isPublished, type Published, type SseDecorator, stop } from '../../lib/index.js'

export const CHAT_TOPIC = 'chat'

/** The message `cut()` sends to each open stream through `app.sse.notify`. */
const CUT = 'cut'

type ChatMsg = Published | typeof CUT

export interface ChatStreams {
  /** The route handler: `app.get('/chat', { chunk: true, handler })`. */
  readonly handler: ChunkedHandler<undefined, ChatMsg>
  /** Ends every open chat stream of this instance (not the server); returns how many were asked to. */
  cut (sse: SseDecorator): number
}

export function chatStreams (): ChatStreams {
  // Ids of the streams that are open now: `notify` needs an id, and `terminate` runs exactly once
  // per stream whatever ended it, so the set never keeps a dead one.
  const open = new Set<string>()
  return {
    handler: {
      async init (token) {
        open.add(token.id)
        await token.subscribe(CHAT_TOPIC)
      },
      handle (msg) {
        if (msg === CUT) return stop()
        // Relaying the event as it is: the plugin adds the cursor id and advances it.
        if (isPublished(msg)) return msg.event
      },
      terminate (_reason, token) {
        open.delete(token.id)
      }
    },
    cut (sse) {
      let count = 0
      for (const id of [...open]) if (sse.notify(id, CUT)) count += 1
      return count
    }
  }
}
