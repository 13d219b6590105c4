// The servers of the benchmark, in table order. Each runs alone in its own child process.
export const serverNames = [
  'node-direct',
  'node-write',
  'fastify-hijack',
  'fastify-hijack-bare',
  'better-sse',
  'fastify-sse',
  'plugin-relay',
  'plugin-handle'
] as const

export type ServerName = typeof serverNames[number]

export const serverLabels: Record<ServerName, string> = {
  'node-direct': 'node:http, pre-framed chunk written to each socket, corked per burst',
  'node-write': 'node:http, res.write of a shared buffer',
  'fastify-hijack': 'Fastify, hijacked reply, res.write (opens as the relay does: its head, a first id)',
  'fastify-hijack-bare': 'Fastify, hijacked reply, writeHead + flushHeaders only (no first id)',
  'better-sse': 'better-sse (channel broadcast, node:http)',
  'fastify-sse': '@fastify/sse',
  'plugin-relay': 'fastify-sse-actors, topics() relay',
  'plugin-handle': 'fastify-sse-actors, per-actor handle'
}

export function isServerName (name: string): name is ServerName {
  return (serverNames as readonly string[]).includes(name)
}
