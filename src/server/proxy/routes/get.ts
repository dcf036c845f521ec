import { TEXT_TO_AUDIO_PATH } from '../../../api/client';
import { fail, type Reply } from '../../http/reply';
import type { RouteRequest } from '../route';
import type { ProxyWiring } from '../wiring';

/** `GET …/{id}` (or `?external_task_id=`): one of the user's tasks. */
export async function getTask(
  proxy: ProxyWiring,
  { userId, scoped, records, forward, context }: RouteRequest,
  match: { id: string; byQuery: boolean },
): Promise<Reply> {
  const answer = await records?.getTask(forward, userId, match.id, context);
  if (answer || scoped) return answer ?? fail(404, 1203, 'Task not found.');
  // The shared space owns the whole account: a task this proxy has no record of is the vendor's to answer.
  const id = encodeURIComponent(match.id);
  return proxy.forward(
    'GET',
    proxy.upstream + TEXT_TO_AUDIO_PATH + (match.byQuery ? `?external_task_id=${id}` : `/${id}`),
    undefined,
    context,
  );
}
