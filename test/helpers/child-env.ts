/**
 * The environment for a child that runs the project's sources through tsx: without tap's process
 * tracking and coverage (NODE_OPTIONS's processinfo import, its _TAPJS_ variables, NODE_V8_COVERAGE).
 * tsx compiles the sources otherwise than tap's loader does, and its coverage, merged with tap's,
 * marks code the tests did run as not run.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'NODE_OPTIONS' || name === 'NODE_V8_COVERAGE' || name.startsWith('_TAPJS_PROCESSINFO')) continue
    env[name] = value
  }
  return { ...env, ...extra }
}
