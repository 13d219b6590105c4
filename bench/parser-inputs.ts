// The inputs of the parser bench (bench/parser.ts) and its profiling run (bench/parser-profile.ts):
// the three shapes of issue 13, each as bytes (what a socket gives) and as text already decoded.

export interface Scenario {
  name: string
  chunks: Array<Buffer | string>
  bytes: number
}

// ~130 bytes: an id, a type and a line of JSON, as a ticker or a notification feed sends.
function smallEvents (count: number): string {
  let text = ''
  for (let i = 0; i < count; i++) {
    text += `id: ${i}\nevent: quote\ndata: {"seq":${i},"symbol":"ACME","bid":${100 + (i % 97) / 100},"ask":${101 + (i % 89) / 100},"at":"2026-01-01T00:00:00.000Z"}\n\n`
  }
  return text
}

// One `data:` line of `size` bytes of JSON: a snapshot of a document or a state.
function largeEvents (count: number, size: number): string {
  const row = '{"id":1234,"name":"cafe au lait","tags":["a","b","c"],"score":0.75},'
  const data = '[' + row.repeat(Math.ceil(size / row.length)).slice(0, size - 2) + ']'
  let stream = ''
  for (let i = 0; i < count; i++) stream += `id: ${i}\nevent: snapshot\ndata: ${data}\n\n`
  return stream
}

// Events of exactly 100 bytes: an id and a data line padded to the size.
function hundredByteEvents (count: number): string {
  let text = ''
  for (let i = 0; i < count; i++) {
    const head = `id: ${i}\ndata: {"n":${i},"pad":"`
    text += head + 'x'.repeat(100 - head.length - 4) + '"}\n\n'
  }
  return text
}

// Copies, as a socket gives fresh buffers.
function splitBytes (bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += size) chunks.push(Buffer.from(bytes.subarray(at, at + size)))
  return chunks
}

/**
 * Each shape as bytes, then as strings: the same cuts (the text is ASCII), each chunk a string of its
 * own, as a TextDecoder gives them; then as slices of the one long string (V8 keeps a slice of 13
 * characters or more as a view of its parent, another kind of string, as a harness that cuts one
 * text gives them).
 */
export function parserScenarios (quick: boolean): Scenario[] {
  const shapes = [
    { name: 'small events, 64 KiB reads', text: smallEvents(quick ? 5_000 : 20_000), read: 64 * 1024 },
    { name: '1 MiB events, 16 KiB reads', text: largeEvents(quick ? 4 : 16, 1 << 20), read: 16 * 1024 },
    { name: '100-byte events, 7-byte reads', text: hundredByteEvents(quick ? 1_000 : 4_000), read: 7 }
  ]
  const all: Scenario[] = []
  for (const { name, text, read } of shapes) {
    const bytes = Buffer.from(text)
    const chunks = splitBytes(bytes, read)
    all.push({ name: `${name}, bytes`, chunks, bytes: bytes.length })
    all.push({ name: `${name}, strings`, chunks: chunks.map((chunk) => chunk.toString('latin1')), bytes: bytes.length })
    const slices: string[] = []
    for (let at = 0; at < text.length; at += read) slices.push(text.slice(at, at + read))
    all.push({ name: `${name}, sliced strings`, chunks: slices, bytes: bytes.length })
  }
  return all
}
