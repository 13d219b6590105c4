// The plugin's fast path: `topics()` relays each published event with its shared, pre-framed bytes.
import { topics } from '../../lib/index.js'
import { startPlugin } from './plugin.js'
import type { StartServer } from './types.js'

const start: StartServer = () => startPlugin(topics(() => ['t']))
export default start
