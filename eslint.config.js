// Fastify's own style (neostandard, as Fastify and its plugins use), with TypeScript.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', '.scratch/**'] }),
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (a stream's close, which never rejects).
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests poll conditions that callbacks change between awaits: the loop's body awaits.
      'no-unmodified-loop-condition': 'off',
      // A test builds a value for its validation alone (`new Event(...)` must throw).
      'no-new': 'off',
      // Several promises in one scope: each resolver is named for what it resolves.
      'promise/param-names': 'off'
    }
  }
]
