/**
 * The environment for a child that runs the project's sources through tsx: without tap's coverage
 * directory, since tsx compiles them otherwise than tap's loader, and merged with tap's report its
 * coverage marks code the tests did run as not run.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _coverage, ...env } = process.env
  return { ...env, ...extra }
}
