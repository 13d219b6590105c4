import type { Test } from 'tap'

/**
 * `t` for a shared suite, whose subtests named in `skipped` are registered as skipped, with the reason
 * shown in the TAP output: the suite stays as it is, a run on another backend leaves out what it
 * would only repeat.
 */
export function skipping (t: Test, skipped: Record<string, string>): Test {
  return new Proxy(t, {
    get (target, key) {
      if (key !== 'test') {
        const value = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (name: string, ...rest: unknown[]) => {
        const reason = skipped[name]
        if (reason === undefined) return (target.test as (...args: unknown[]) => unknown)(name, ...rest)
        return target.test(name, { skip: reason }, () => {})
      }
    }
  })
}
