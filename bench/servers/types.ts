/** One SSE server under test, serving `GET /t` on 127.0.0.1, every stream on one topic. */
export interface BenchServer {
  readonly port: number
  /** Streams open, as the server counts them. */
  connections (): number
  /** Publishes each data string as one event, in order, as fast as the library allows. */
  burst (batch: string[]): void | Promise<void>
  /** Publishes one event (the paced latency scenario). */
  publish (data: string): unknown
  /** Ends every stream and stops listening. */
  close (): Promise<void>
}

export type StartServer = () => Promise<BenchServer>
