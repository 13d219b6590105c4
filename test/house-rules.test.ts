import { readFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import t from 'tap'
import { libRoot, libSources } from './helpers/lib-sources.js'

// The house rules of lib/ that a test can hold. No module imports itself back through others, types
// included: a cycle is a rule that lives in two places, and at run time an import that may see a
// module half loaded. And no file grows past 300 lines.

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm

function importsOf (file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1].replace(/\.js$/, '.ts')))
}

/** Every cycle, each once, as the list of files from its first module back to it. */
function cycles (files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file)]))
  const found = new Map<string, string[]>()
  const visit = (file: string, path: string[]): void => {
    const at = path.indexOf(file)
    if (at !== -1) {
      const cycle = path.slice(at)
      found.set([...cycle].sort().join(' '), cycle)
      return
    }
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
  }
  for (const file of files) visit(file, [])
  return [...found.values()]
}

t.test('lib/ has no import cycle', async (t) => {
  const found = cycles(libSources()).map((cycle) => cycle.map((file) => relative(libRoot, file)).join(' -> '))
  t.same(found, [], found.join('\n'))
})

t.test('every file of lib/ is at most 300 lines: one job a file', async (t) => {
  const long = libSources()
    .map((file) => ({ file: relative(libRoot, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
    .filter(({ lines }) => lines > 300)
  t.same(long, [], long.map(({ file, lines }) => `${file}: ${lines} lines`).join('\n'))
})
