export { createParser } from './parser.js'
export type { Parser, ParserOptions, ParserCallbacks, ParsedEvent } from './parser.js'
