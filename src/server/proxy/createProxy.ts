/**
 * The server-side proxy between the app's browser code and the vendor: it holds the credential, forwards
 * three named operations and nothing else, and validates a create before it can cost anything.
 * Fetch API and WebCrypto only, so it runs on Node 20+ and on edge runtimes.
 */
import { toResponse, fail } from '../http/reply';
import { eventStreamResponse, isEventStreamReply } from '../http/sse';
import type { ClientSignal } from '../vendor/upstream';
import { dispatch, type Answer } from './dispatch';
import { NODE_BINDING, type NodeBinding } from './nodeBinding';
import { resolveOptions, type KlingAudioProxyOptions } from './options';
import { wire } from './wiring';

/**
 * A proxy: a Fetch handler (`Request` in, `Response` out) that can be shut down. `close()` answers new
 * requests with 503, waits for those in flight, then stops the push sweep, the event streams and the
 * log's LISTEN client, and the keep queue (waiting for the files being kept). `await using` calls it too.
 */
export interface KlingAudioProxy {
  (request: Request): Promise<Response>;
  /** Shuts the proxy down, once; later calls get the same promise. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the proxy as a Fetch handler (`Request` in, `Response` out) for Next.js route handlers, Hono,
 * Bun, Deno and Workers; `toNodeHandler` serves it from node:http, Express or Connect.
 *
 * Throws when `authorize` is missing, or when the credentials are not exactly one of the key pair or the
 * API key.
 *
 * @example
 * const handler = createKlingAudioProxy({
 *   accessKey: process.env.KLING_ACCESS_KEY,
 *   secretKey: process.env.KLING_SECRET_KEY,
 *   authorize: async (request) => (await getSession(request)) !== null,
 * });
 * export { handler as GET, handler as POST }; // app/api/kling/[...path]/route.ts
 */
export function createKlingAudioProxy(options: KlingAudioProxyOptions): KlingAudioProxy {
  const proxy = wire(options, resolveOptions(options));

  // Requests being answered, so `close()` can wait for them.
  const answering = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;
  function respond(request: Request, url: URL, signal?: ClientSignal): Promise<Answer> {
    if (closing) return Promise.resolve(fail(503, 5001, 'The proxy is shutting down.'));
    const work = dispatch(proxy, request, url, signal);
    answering.add(work);
    const done = () => answering.delete(work);
    work.then(done, done);
    return work;
  }
  const close = () =>
    (closing ??= (async () => {
      await Promise.allSettled([...answering]);
      await proxy.queue?.close();
      await proxy.push?.close();
      await proxy.keeping?.close();
    })());

  const handler = async (request: Request): Promise<Response> => {
    const answer = await respond(request, new URL(request.url));
    if (answer instanceof Response) return answer;
    return isEventStreamReply(answer) ? eventStreamResponse(answer) : toResponse(answer);
  };
  const binding: NodeBinding = { respond, useTransport: proxy.useTransport, basePath: proxy.basePath };
  Object.defineProperty(handler, NODE_BINDING, { value: binding });
  // Runtimes without explicit resource management have no `Symbol.asyncDispose`: `close()` alone there.
  const dispose = typeof Symbol.asyncDispose === 'symbol' ? { [Symbol.asyncDispose]: close } : {};
  return Object.assign(handler, { close }, dispose) as KlingAudioProxy;
}
