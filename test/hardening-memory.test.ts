import t from 'tap'
import { memoryBroker } from '../lib/index.js'
import { hardeningSuite } from './helpers/hardening-suite.js'

hardeningSuite(t, async () => ({ broker: memoryBroker({ history: 5000 }), cleanup: async () => {} }))
