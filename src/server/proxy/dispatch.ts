/**
 * The dispatcher: one request in, the route's handler called, the app's logging hooks around it.
 */
import { TASK_EVENTS_HEADER } from '../../api/client';
import { TASK_EVENTS_PATH } from '../../api/events';
import { SHARED_SPACE } from '../core/taskStore';
import { matchFilePath } from '../http/files';
import { fail, type Reply } from '../http/reply';
import { isEventStreamReply, type EventStreamReply } from '../http/sse';
import { matchRoute, type RouteMatch } from '../http/routes';
import { presentReply } from '../keep/keeping';
import type { ClientSignal, UpstreamContext } from '../vendor/upstream';
import type { KlingProxyRequestInfo } from './options';
import type { RouteRequest } from './route';
import { taskCallback } from './routes/callback';
import { createTask } from './routes/create';
import { taskEvents } from './routes/events';
import { keptFile } from './routes/files';
import { getTask } from './routes/get';
import { deleteTask, updateTask } from './routes/history';
import { listTasks } from './routes/list';
import { tooManyRequests } from './rateLimit';
import type { ProxyWiring } from './wiring';

/** What the dispatcher answers: a JSON reply, a kept file's `Response`, or an event stream to start. */
export type Answer = Reply | Response | EventStreamReply;

const EVENTS_HEADER = TASK_EVENTS_HEADER.toLowerCase();

/** What stands for a callback's token in the path `onRequest` and `onResponse` get. */
export const ELIDED_TOKEN = '{token}';

const call = <T>(hook: ((info: T) => void) | undefined, info: T) => {
  try {
    hook?.(info);
  } catch {
    // A logging hook must not change the answer.
  }
};

/**
 * The answer to `request` (whose URL is `url`, and `signal` its signal or one that fires with it), before
 * the reply becomes a `Response`.
 */
export async function dispatch(
  proxy: ProxyWiring,
  request: Request,
  url: URL,
  signal: ClientSignal = request.signal,
): Promise<Answer> {
  const { onRequest, onResponse } = proxy.options;
  const started = Date.now();
  const context: UpstreamContext = { deadline: started + proxy.timeoutMs, signal };
  // The kept files' own route, when keeping is on: binary answers, not the vendor's envelope.
  const file = proxy.keeping ? matchFilePath(url.pathname, proxy.basePath) : null;
  if (file !== null) {
    const info: KlingProxyRequestInfo = { method: request.method, route: 'keptFile', path: url.pathname };
    call(onRequest, info);
    let answer: Response | Reply;
    try {
      answer = await keptFile(proxy, request, file);
    } catch {
      answer = fail(500, 5000, 'The proxy failed to handle the request.');
    }
    call(onResponse, {
      ...info,
      status: answer.status,
      code: answer instanceof Response ? undefined : answer.code,
      requestId: answer instanceof Response ? undefined : answer.requestId,
      durationMs: Date.now() - started,
    });
    return answer;
  }
  // The push routes first (their paths would otherwise read as a task lookup); without push the events
  // path is still ours to refuse, never a lookup sent upstream.
  const pushRoute =
    proxy.push?.match(url, proxy.basePath) ??
    (url.pathname === proxy.basePath + TASK_EVENTS_PATH
      ? { route: 'taskEvents' as const, token: '' }
      : undefined);
  const match = pushRoute ? undefined : matchRoute(request.method, url, proxy.basePath);
  const info: KlingProxyRequestInfo = {
    method: request.method,
    route: pushRoute?.route ?? match!.route,
    // A callback's token is its credential: the app's log gets the route, never the token.
    path: pushRoute?.route === 'taskCallback' ? `${proxy.basePath}/callbacks/${ELIDED_TOKEN}` : url.pathname,
  };
  call(onRequest, info);
  let reply: Answer;
  try {
    reply = pushRoute
      ? await pushRoutes(proxy, request, pushRoute, signal, context)
      : await vendorRoutes(proxy, request, url, match!, context);
    // Every answer of a proxy with push says so: the browser opens the stream only then, and a proxy
    // without push is never asked for one (no failed request, no console error).
    if (proxy.push && !(reply instanceof Response) && !isEventStreamReply(reply)) {
      (reply.headers ??= {})[EVENTS_HEADER] = 'on';
    }
  } catch {
    // The error may come from the app's rate-limit key or the platform; its text is not for browsers.
    reply = fail(500, 5000, 'The proxy failed to handle the request.');
  }
  if (isEventStreamReply(reply)) {
    // A stream: logged when it opens (how long it stays is the client's to decide).
    call(onResponse, {
      ...info,
      status: reply.status,
      code: 0,
      requestId: undefined,
      durationMs: Date.now() - started,
    });
    return reply;
  }
  if (onResponse) {
    const { status, code, requestId } = reply;
    call(onResponse, { ...info, status, code, requestId, durationMs: Date.now() - started });
  }
  return reply;
}

/** The push routes: the vendor's callbacks (no user: the token is the check) and the user's stream. */
function pushRoutes(
  proxy: ProxyWiring,
  request: Request,
  route: { route: 'taskEvents' | 'taskCallback'; token: string },
  signal: ClientSignal,
  context: UpstreamContext,
): Promise<Reply | EventStreamReply> {
  const { push } = proxy;
  if (!push) {
    return Promise.resolve(
      fail(404, 1203, 'Not found: this proxy has no `callbackUrl`, so it pushes nothing.'),
    );
  }
  return route.route === 'taskCallback'
    ? taskCallback(push, request, route.token, context)
    : taskEvents(proxy, push, request, signal);
}

/** The vendor's operations: a known route, a user `authorize` names, the rate limit, then the handler. */
async function vendorRoutes(
  proxy: ProxyWiring,
  request: Request,
  url: URL,
  match: RouteMatch,
  context: UpstreamContext,
): Promise<Reply> {
  if (match.route === null) {
    return match.status === 405
      ? fail(405, 1202, `Method not allowed: use ${match.allow}.`, { allow: match.allow })
      : fail(404, 1203, 'Not found.');
  }
  const userId = await proxy.identify(request);
  if (userId === undefined) return fail(401, 1000, 'Not authorized.');
  const wait = proxy.limit ? await proxy.limit(request) : 0;
  if (wait) return tooManyRequests(wait);
  proxy.warnIfInMemory();
  const scoped = userId !== SHARED_SPACE;
  const { records } = proxy;
  if (scoped && !records) return fail(500, 5000, 'The proxy has no task store for signed-in users.');
  // A create runs to completion (its lookups included) even if the browser leaves, so a retry finds it.
  const forward = proxy.forwardFor(match.route === 'createTask' ? { deadline: context.deadline } : context);
  const route: RouteRequest = { request, url, context, userId, scoped, records, forward };
  // Hosts without long-lived processes have no tick: requests drive the queue too.
  proxy.queue?.poke();
  if (match.route === 'usage') {
    return proxy.queue
      ? proxy.queue.usage(userId)
      : fail(404, 1203, 'Not found: this proxy has no `limits`.');
  }
  if (match.route === 'createTask') return createTask(proxy, route);
  if (match.route === 'deleteTask') return deleteTask(proxy, route, match);
  const reply =
    match.route === 'getTask'
      ? await getTask(proxy, route, match)
      : match.route === 'updateTask'
        ? await updateTask(proxy, route, match)
        : await listTasks(proxy, route);
  // Kept audios point at their copies in every task answered (a create is still pending: no audio).
  return proxy.keeping ? presentReply(proxy.keeping, userId, reply, proxy.keptOrigin(url)) : reply;
}
