import { createActor, setup } from 'xstate'

/**
 * The plugin's lifecycle: running, then draining while `fastify.close()` lets handlers say goodbye,
 * then closed. Streams are accepted only while running.
 */
const pluginLifecycle = setup({
  types: { events: {} as { type: 'CLOSE' } | { type: 'DRAINED' } }
}).createMachine({
  id: 'fastify-sse-actors',
  initial: 'running',
  states: {
    running: { on: { CLOSE: 'draining' } },
    draining: { on: { DRAINED: 'closed' } },
    closed: { type: 'final' }
  }
})

export type PluginPhase = 'running' | 'draining' | 'closed'

export function startPluginLifecycle (): { send: (event: { type: 'CLOSE' } | { type: 'DRAINED' }) => void, phase: () => PluginPhase } {
  const actor = createActor(pluginLifecycle)
  actor.subscribe({ error: () => {} })
  actor.start()
  return {
    send: (event) => actor.send(event),
    phase: () => actor.getSnapshot().value as PluginPhase
  }
}
