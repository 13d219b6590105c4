/**
 * The names of an options interface, for refuseUnknownKeys: `names` must list every key of `T` and
 * no other (the compiler checks), so an option added to the interface cannot be refused at run time.
 */
export function optionNames<T> (names: Record<keyof T, true>): readonly string[] {
  return Object.keys(names)
}
