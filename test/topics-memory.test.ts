import t from 'tap'
import { memoryBroker } from '../lib/index.js'
import { topicsSuite } from './helpers/topics-suite.js'

topicsSuite(t, async () => ({ broker: memoryBroker(), cleanup: async () => {} }))
