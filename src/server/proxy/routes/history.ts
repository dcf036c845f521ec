import * as z from 'zod/mini';
import { describeIssues, updateAudioTaskInputSchema } from '../../../api/schemas';
import { readBody } from '../../http/body';
import { fail, succeed, type Reply } from '../../http/reply';
import { deletedTask } from '../../records/records';
import type { RouteRequest } from '../route';
import type { ProxyWiring } from '../wiring';

// Records are what a user manages: without them (`store: false`) there is nothing to delete or edit.
const noRecords = () =>
  fail(405, 1202, 'This proxy keeps no task records (store: false): tasks cannot be deleted or edited.', {
    allow: 'GET',
  });
const notFound = () => fail(404, 1203, 'Task not found.');

/** `DELETE …/{id}`: the task leaves the user's history (its record and kept files; a queued one is never sent). */
export async function deleteTask(
  proxy: ProxyWiring,
  { userId, records }: RouteRequest,
  match: { id: string },
): Promise<Reply> {
  // A store of the app's own that cannot delete is as good as none here.
  if (!records || !proxy.store || typeof proxy.store.deleteTask !== 'function') return noRecords();
  const removed = await records.deleteTask(userId, match.id);
  if (!removed) return notFound();
  // The user's other tabs and devices hear of it (a task event marked deleted).
  const gone = deletedTask(removed);
  if (gone) proxy.push?.publish(userId, removed.externalTaskId, gone);
  // A waiting task that left the line: the places behind it move up.
  if (removed.status === 'queued') proxy.queue?.removed();
  return succeed({ task_id: removed.taskId ?? null, external_task_id: removed.externalTaskId });
}

/** `PATCH …/{id}` with `{ title?, starred? }`: answers the task as a get does. */
export async function updateTask(
  proxy: ProxyWiring,
  { request, userId, records, forward, context }: RouteRequest,
  match: { id: string },
): Promise<Reply> {
  if (!records) return noRecords();
  if (!/^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? '')) {
    return fail(415, 1200, 'The request body must be application/json.');
  }
  let json: unknown;
  try {
    const text = await readBody(request, proxy.maxBodyBytes, context.deadline);
    if (typeof text !== 'string') return text;
    json = JSON.parse(text);
  } catch {
    return fail(400, 1201, 'The request body is not valid JSON.');
  }
  const changes = z.safeParse(updateAudioTaskInputSchema, json);
  if (!changes.success || typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(
      400,
      1201,
      changes.success ? 'The body must be a JSON object.' : describeIssues(changes.error),
    );
  }
  const answer = await records.updateTask(forward, userId, match.id, changes.data);
  return answer ?? notFound();
}
