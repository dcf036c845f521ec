/** Server-Sent Events: the `text/event-stream` encoding. */

/** One event in the `text/event-stream` format: `event`, `id`, then one `data:` line per line. */
export function encodeServerSentEvent({
  event,
  id,
  data,
  retry,
}: {
  event?: string;
  id?: string;
  data: string;
  retry?: number;
}): string {
  let text = event ? `event: ${event}\n` : '';
  // An id with a line break would end the field early and be read as something else.
  if (id !== undefined) text += `id: ${id.replace(/[\r\n\0]/g, '')}\n`;
  if (retry !== undefined) text += `retry: ${retry}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** A comment: keeps proxies and load balancers from closing an idle stream, and tells the client it lives. */
export const HEARTBEAT = ': heartbeat\n\n';

/** Where a stream's bytes go: a socket (`toNodeHandler`) or a `ReadableStream` (a Fetch `Response`). */
export interface StreamSink {
  /** Writes bytes; answers how many bytes now wait unsent (the backlog a client that does not read leaves). */
  write(bytes: Uint8Array): number;
  /** Ends the stream; `reset`: at once, dropping what waits (the client reconnects). */
  end(reset?: boolean): void;
}

/** An open event stream before it has a body: the host writes its head, then hands `start` a sink. */
export interface EventStreamReply {
  status: 200;
  headers: Record<string, string>;
  /** Starts writing to `sink`; answers the stop for when the reader goes away. */
  start(sink: StreamSink): () => void;
}

/** The headers of an event stream. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  // nginx and some hosts buffer responses unless told not to.
  'x-accel-buffering': 'no',
};

/** True for an event stream's reply (beside a JSON `Reply` or a `Response`). */
export const isEventStreamReply = (answer: object): answer is EventStreamReply =>
  typeof (answer as Partial<EventStreamReply>).start === 'function';

/**
 * The `Response` of an event stream, for Fetch hosts: its bytes wait in the body's queue, measured by byte
 * length, which is the backlog the sink reports.
 */
export function eventStreamResponse(reply: EventStreamReply): Response {
  let stop: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        stop = reply.start({
          write(bytes) {
            controller.enqueue(bytes);
            // With a high-water mark of 0, `desiredSize` is minus the bytes waiting.
            return -(controller.desiredSize ?? 0);
          },
          end(reset) {
            try {
              if (reset) controller.error(new Error('The client reads too slowly: the stream ended.'));
              else controller.close();
            } catch {
              // Already cancelled by the reader.
            }
          },
        });
      },
      cancel: () => stop?.(),
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, { status: reply.status, headers: reply.headers });
}
