import { createActor, setup } from 'xstate'

/**
 * The plugin's lifecycle: running, then draining while `fastify.close()` lets handlers say goodbye,
 * then closed. Streams are accepted only while running.
 */
const pluginLifecycle = setup({
  types: { events: {} as { type: 'close' } | { type: 'drained' } }
}).createMachine({
  id: 'sse-plugin',
  initial: 'running',
  states: {
    running: { on: { close: 'draining' } },
    draining: { on: { drained: 'closed' } },
    closed: { type: 'final' }
  }
})

export type PluginPhase = 'running' | 'draining' | 'closed'

export function startPluginLifecycle (): { send: (event: { type: 'close' } | { type: 'drained' }) => void, phase: () => PluginPhase } {
  const actor = createActor(pluginLifecycle)
  actor.subscribe({ error: () => {} })
  actor.start()
  return {
    send: (event) => actor.send(event),
    phase: () => actor.getSnapshot().value as PluginPhase
  }
}
