// Fastify's own style (neostandard, as Fastify and its plugins use), with TypeScript.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', '.scratch/**'] }),
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (a stream's close, which never rejects).
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
