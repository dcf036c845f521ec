import type { WireTask } from '../../../api/schemas';
import { SHARED_SPACE } from '../../core/taskStore';
import { fail, type Reply } from '../../http/reply';
import type { ProxyWiring } from '../wiring';

/** `GET …/events`: the user's task changes as Server-Sent Events. */
export async function taskEvents(
  proxy: ProxyWiring,
  push: NonNullable<ProxyWiring['push']>,
  request: Request,
  url: URL,
): Promise<Reply | Response> {
  const { keeping } = proxy;
  const userId = await proxy.identify(request);
  if (userId === undefined) return fail(401, 1000, 'Not authorized.');
  // The shared space owns the whole account: its stream carries every task.
  // Each event's task as a get answers it: with its kept copies' URLs once they are kept.
  const origin = proxy.keptOrigin(url);
  const present = keeping
    ? async (owner: string, task: WireTask) => (await keeping.present(owner, [task], origin))[0]!
    : undefined;
  const answer = await push.events(request, userId === SHARED_SPACE ? null : userId, present);
  return answer instanceof Response ? answer : fail(answer.status, answer.code, answer.message);
}
