/** A pino logger for Fastify that keeps every line at `level` and above, parsed. */
export function captureLogs (level = 'warn'): { logs: Array<Record<string, unknown>>, logger: { level: string, stream: { write: (line: string) => void } } } {
  const logs: Array<Record<string, unknown>> = []
  return { logs, logger: { level, stream: { write: (line) => { logs.push(JSON.parse(line)) } } } }
}
