// The floor of the parser bench: the least work any parser must do to give the same events on the
// bench's inputs. It decodes bytes as ours does, cuts the text into lines with one search a line,
// makes each value the one slice a parser would, and makes the event objects; it checks no field
// name (it knows the inputs' three fields by their first letter and that a space follows the
// colon), no CR, no BOM, no NUL and no size. It is not a parser: it is there to say how far above
// eventsource-parser any exact parser can be on a given Node, by what is common to all of them.

import { decode } from '../lib/client/line-bytes.js'

export interface RunResult { count: number, last: string, sum: number }

const ID = 105 // i
const EVENT = 101 // e

export function runFloor (chunks: Array<Buffer | string>, read: (data: string) => number): RunResult {
  let count = 0
  let sum = 0
  let last = ''
  let waiting = '' // the start of a line the read cut
  let id = ''
  let type = ''
  let data: string | undefined
  const field = (text: string, at: number, end: number): void => {
    const c = text.charCodeAt(at)
    if (c === ID) id = text.slice(at + 4, end)
    else if (c === EVENT) type = text.slice(at + 7, end)
    else data = text.slice(at + 6, end)
  }
  for (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decode(chunk, 0, chunk.length)
    let at = 0
    let lf = text.indexOf('\n')
    if (waiting !== '') {
      if (lf === -1) {
        waiting += text
        continue
      }
      const line = waiting + text.slice(0, lf)
      waiting = ''
      field(line, 0, line.length)
      at = lf + 1
      lf = text.indexOf('\n', at)
    }
    while (lf !== -1) {
      if (lf !== at) {
        field(text, at, lf)
      } else if (data !== undefined) {
        const event = { type: type === '' ? 'message' : type, data, lastEventId: id }
        count++
        sum += read(event.data)
        last = event.data
        data = undefined
        type = ''
      }
      at = lf + 1
      lf = text.indexOf('\n', at)
    }
    if (at < text.length) waiting = text.slice(at)
  }
  return { count, last, sum }
}
