// The plugin with a `handle`: each actor is called per published message and returns its event.
import { isPublished } from '../../lib/index.js'
import { startPlugin } from './plugin.js'
import type { StartServer } from './types.js'

const start: StartServer = () => startPlugin({
  init: (token) => token.subscribe('t'),
  handle: (msg) => isPublished(msg) ? msg.event : undefined
})
export default start
