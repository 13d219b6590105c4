import t from 'tap'
import { hardeningSuite } from './helpers/hardening-suite.js'
import { redisAvailable, redisCluster } from './helpers/redis.js'

if (await redisAvailable(t)) {
  t.test('the hardening suite on Redis (retention 5000)', async (t) => {
    // A prefix of its own for each test: the tests close the same topic names.
    hardeningSuite(t, async () => ({ broker: redisCluster(t, { retention: 5000 })(), cleanup: async () => {} }))
  })
}
