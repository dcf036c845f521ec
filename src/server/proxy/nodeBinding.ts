import type { Reply } from '../http/reply';
import type { ClientSignal, UpstreamTransport } from '../vendor/upstream';

/**
 * Where `toNodeHandler` finds what a handler made by `createKlingAudioProxy` offers Node: the answer before
 * it becomes a `Response` (written to the socket as it is), and a way to hand the proxy a node:http
 * transport. A handler without it (one an app wrapped) is served through the Fetch API as usual.
 */
export const NODE_BINDING = Symbol('react-kling-audio: node binding');

export interface NodeBinding {
  /**
   * The handler's work for `request`, whose URL is `url` and `signal` its signal (or one that fires with
   * it): a reply, or a `Response` (a stream, a file).
   */
  respond(request: Request, url: URL, signal?: ClientSignal): Promise<Reply | Response>;
  /** Upstream calls go through `transport` from now on, unless the app passed its own `fetch`. */
  useTransport(transport: UpstreamTransport): void;
}
