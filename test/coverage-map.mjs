// What the tests are held to cover: the product, lib/. Examples, benchmarks and test helpers run
// in the tests too (examples have tests of their own), but their coverage is not the product's.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function sources (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : []
  })
}

const lib = sources('lib')

// These tests run the sources in child processes through tsx (examples' mains, the fault run's
// instances, the packed package, a crash check): tap tracks those children too, and their coverage,
// compiled otherwise than by tap's loader, lands on the wrong lines when merged. They cover nothing.
const spawning = /(^|\/)(examples|fault|package)\.test\.ts$|client\/unhandled-rejection\.test\.ts$/

export default function coverageMap (testFile) {
  return spawning.test(testFile) ? null : lib
}
