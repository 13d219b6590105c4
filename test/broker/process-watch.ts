import type { Test } from 'tap'

export interface ProcessWatch {
  /** The process warnings emitted while the test ran. */
  warnings: Array<Error & { code?: string }>
  /** Uncaught exceptions: recorded instead of ending the process, so that a test can assert there were none. */
  uncaught: unknown[]
}

/** Watches the process for the rest of the test. Warnings are emitted on a later tick: wait before reading them. */
export function watchProcess (t: Test): ProcessWatch {
  const watch: ProcessWatch = { warnings: [], uncaught: [] }
  const onWarning = (warning: Error): void => { watch.warnings.push(warning) }
  const onUncaught = (error: unknown): void => { watch.uncaught.push(error) }
  process.on('warning', onWarning)
  process.on('uncaughtException', onUncaught)
  t.teardown(() => {
    process.off('warning', onWarning)
    process.off('uncaughtException', onUncaught)
  })
  return watch
}

/** The warnings of one code. */
export function warningsOf (watch: ProcessWatch, code: string): Array<Error & { code?: string }> {
  return watch.warnings.filter((warning) => warning.code === code)
}

export function nextTurn (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
