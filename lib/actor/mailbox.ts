/**
 * A FIFO queue for one actor. A plain array with a moving head: push and shift are O(1) amortized
 * and nothing is allocated per message once the array has grown.
 */
export class Mailbox<T> {
  #items: T[] = []
  #head = 0

  get size (): number {
    return this.#items.length - this.#head
  }

  push (item: T): void {
    this.#items.push(item)
  }

  shift (): T | undefined {
    if (this.#head === this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined as T
    if (this.#head === this.#items.length) {
      this.#items.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Removes the oldest item that `canDrop` accepts; false when there is none. */
  dropOldest (canDrop: (item: T) => boolean): boolean {
    for (let i = this.#head; i < this.#items.length; i++) {
      if (canDrop(this.#items[i])) {
        this.#items.splice(i, 1)
        return true
      }
    }
    return false
  }

  /** Empties the mailbox; returns how many items it held. */
  clear (): number {
    const dropped = this.size
    this.#items = []
    this.#head = 0
    return dropped
  }
}
