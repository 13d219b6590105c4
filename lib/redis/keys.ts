import { validateTopic } from '../broker/validate.js'

/** The Redis names of one topic, in the order the Lua scripts take them as KEYS. */
export interface TopicKeys {
  /** meta (hash: epoch, head), stream (the history), tombstone (string: the final payload) */
  keys: [meta: string, stream: string, tombstone: string]
  /** The Pub/Sub channel of its live events and its close. */
  channel: string
}

/**
 * `<prefix>{<topic, URI-encoded>}:<part>`. Encoding keeps `{`, `}` and `:` of a topic out of the hash
 * tag and the layout, so every key of a topic lands in one Redis Cluster slot and no two topics share
 * a key. The prefix may not hold braces (checked with the options): the tag must be the topic's.
 */
export function topicKeys (prefix: string, topic: string): TopicKeys {
  validateTopic(topic)
  const base = `${prefix}{${encodeURIComponent(topic)}}`
  return { keys: [`${base}:meta`, `${base}:stream`, `${base}:closed`], channel: `${base}:events` }
}
