import { SHARED_SPACE } from '../../core/taskStore';
import { fail, type Reply } from '../../http/reply';
import { isEventStreamReply, type EventStreamReply } from '../../http/sse';
import type { ClientSignal } from '../../vendor/upstream';
import type { ProxyWiring } from '../wiring';

/** `GET …/events`: the user's task changes as Server-Sent Events. */
export async function taskEvents(
  proxy: ProxyWiring,
  push: NonNullable<ProxyWiring['push']>,
  request: Request,
  signal: ClientSignal,
): Promise<Reply | EventStreamReply> {
  const userId = await proxy.identify(request);
  if (userId === undefined) return fail(401, 1000, 'Not authorized.');
  // The shared space owns the whole account: its stream carries every task.
  const answer = await push.events(request, userId === SHARED_SPACE ? null : userId, signal);
  return isEventStreamReply(answer) ? answer : fail(answer.status, answer.code, answer.message);
}
