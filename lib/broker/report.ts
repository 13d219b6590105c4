// What the broker cannot hand to anyone (a listener's error, bytes that are not ours) is reported
// here, never thrown: a throw from a listener or from an ioredis event handler would be an uncaught
// exception and end the process. The broker has no logger (it is made before the plugin that owns
// one), so it uses the process's own channel: Node prints each warning once to stderr, and an app
// may route them to its log with `process.on('warning')`; the original error is the warning's cause.

export type BrokerWarningCode =
  /** A topic listener threw: the others still got the event. */
  | 'SSE_WARN_LISTENER_THREW'
  /** A message or a stored entry that does not decode: dropped. */
  | 'SSE_WARN_MALFORMED'

export function warn (code: BrokerWarningCode, message: string, cause?: unknown): void {
  const warning = Object.assign(new Error(message, { cause }), { name: 'SseBrokerWarning', code })
  process.emitWarning(warning)
}
