// The published package, as a user installs it: `npm pack`, unpacked into a project of its own,
// compiles the DESIGN.md route forms from the built declarations with no cast, and runs from plain JS.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { childEnv } from './helpers/child-env.js'

const root = process.cwd()
// Inside the repository, so the consumer resolves fastify and friends from our node_modules.
mkdirSync(join(root, '.tap'), { recursive: true })
const consumer = mkdtempSync(join(root, '.tap', 'consumer-'))
t.teardown(() => rmSync(consumer, { recursive: true, force: true }))

t.test('npm pack, install, compile the route forms, run from JS', async (t) => {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', consumer], { cwd: root, encoding: 'utf8', env: childEnv() }).trim().split('\n').at(-1)!
  const installed = join(consumer, 'node_modules', 'fastify-sse-actors')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['-xzf', join(consumer, tarball), '-C', installed, '--strip-components=1'])
  const files = execFileSync('tar', ['-tzf', join(consumer, tarball)], { encoding: 'utf8' })
  t.match(files, /package\/dist\/index\.d\.ts/)
  t.match(files, /package\/dist\/client\/index\.js/)
  t.match(files, /package\/dist\/redis\/index\.js/)
  t.notMatch(files, /package\/(lib|test)\//, 'sources and tests stay out of the package')

  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }))
  const routes = readFileSync(join(root, 'test', 'types.test.ts'), 'utf8')
    .replace("'../lib/index.js'", "'fastify-sse-actors'")
    .replace("import t from 'tap'\n", '')
    .replace(/\nt\.test\([\s\S]*$/, '\n')
  writeFileSync(join(consumer, 'index.ts'), routes + [
    "import { connect, createParser, SseClient } from 'fastify-sse-actors/client'",
    "import { redisBroker } from 'fastify-sse-actors/redis'",
    'void connect; void createParser; void SseClient; void redisBroker', ''
  ].join('\n'))
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] },
    include: ['index.ts']
  }))
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  let output = ''
  try {
    execFileSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8', env: childEnv() })
  } catch (error) {
    output = String((error as { stdout?: string }).stdout)
  }
  t.equal(output, '', 'the route forms compile against the built declarations')

  writeFileSync(join(consumer, 'run.mjs'), [
    "import Fastify from 'fastify'",
    "import ssePlugin, { Event, stop } from 'fastify-sse-actors'",
    'const app = Fastify()',
    'await app.register(ssePlugin)',
    "app.get('/x', { chunk: true, handler: { init: () => stop(new Event({ data: 'plain js' })) } })",
    "const response = await app.inject('/x')",
    'console.log(JSON.stringify(response.body))',
    'await app.close()', ''
  ].join('\n'))
  t.equal(execFileSync(process.execPath, [join(consumer, 'run.mjs')], { encoding: 'utf8', env: childEnv() }).trim(), JSON.stringify('data: plain js\n\n'))
})
