import { TEXT_TO_AUDIO_PATH } from '../../../api/client';
import { describeIssues, parseWireCreateRequest, toWireCreateRequest } from '../../../api/schemas';
import { SHARED_SPACE } from '../../core/taskStore';
import { readBody } from '../../http/body';
import { fail, type Reply } from '../../http/reply';
import { taskOfReply } from '../../push/push';
import type { RouteRequest } from '../route';
import type { ProxyWiring } from '../wiring';

/** `POST …`: a new task, checked before it can cost anything. */
export async function createTask(
  proxy: ProxyWiring,
  { request, userId, records, forward, context }: RouteRequest,
): Promise<Reply> {
  const { push } = proxy;
  // A cross-site form can post text/plain without a preflight; requiring JSON keeps creates same-origin.
  if (!/^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? '')) {
    return fail(415, 1200, 'The request body must be application/json.');
  }
  let json: unknown;
  try {
    const text = await readBody(request, proxy.maxBodyBytes, context.deadline);
    if (typeof text !== 'string') return text;
    json = JSON.parse(text);
  } catch {
    return fail(400, 1200, 'The request body is not valid JSON.');
  }
  const input = parseWireCreateRequest(json);
  if (!input.success) return fail(400, 1201, describeIssues(input.error));
  // The vendor's callbacks are the proxy's to direct: a browser could point them anywhere.
  if (input.data.callbackUrl) return fail(400, 1201, 'callback_url is set by the server, not the browser.');
  // With limits, every create goes through the queue: admitted (or refused, 2001–2003), then sent when
  // the account has room.
  if (records && proxy.queue) return proxy.queue.create(userId, input.data);
  // Waiting on another instance's create stops at the deadline or when the browser leaves.
  if (records) return records.createTask(forward, userId, input.data, context);
  // The normalised body (trimmed prompt, empty optional fields dropped), not the bytes received.
  const body = toWireCreateRequest(input.data);
  if (push) {
    body.external_task_id ??= `rka-${crypto.randomUUID()}`;
    body.callback_url = await push.callbackUrlFor(SHARED_SPACE, body.external_task_id);
  }
  const reply = await proxy.forward(
    'POST',
    proxy.upstream + TEXT_TO_AUDIO_PATH,
    JSON.stringify(body),
    context,
  );
  const task = push ? taskOfReply(reply) : undefined;
  if (task) {
    proxy.created.set(body.external_task_id!, { taskId: task.task_id });
    push!.publish(SHARED_SPACE, body.external_task_id!, task);
  }
  return reply;
}
