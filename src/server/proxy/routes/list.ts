import * as z from 'zod/mini';
import { TEXT_TO_AUDIO_PATH } from '../../../api/client';
import {
  checkListParams,
  listAudioTasksParamsSchema,
  searchWords,
  PAGE_NUM_MAX,
  PAGE_NUM_MIN,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
} from '../../../api/schemas';
import { fail, type Reply } from '../../http/reply';
import type { RouteRequest } from '../route';
import type { ProxyWiring } from '../wiring';

/** `GET …?pageNum&pageSize`: the user's tasks, newest first. */
export async function listTasks(
  proxy: ProxyWiring,
  { url, userId, scoped, records, forward, context }: RouteRequest,
): Promise<Reply> {
  const number = (name: string) => {
    const value = url.searchParams.get(name);
    return value === null ? undefined : /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  };
  const page = z.safeParse(listAudioTasksParamsSchema, {
    pageNum: number('pageNum'),
    pageSize: number('pageSize'),
  });
  if (!page.success) {
    return fail(
      400,
      1201,
      `pageNum must be a whole number from ${PAGE_NUM_MIN} to ${PAGE_NUM_MAX}, pageSize from ${PAGE_SIZE_MIN} to ${PAGE_SIZE_MAX}.`,
    );
  }
  // The history's filters: `q` (words of the prompt or name), `starred=true`, `status`.
  const query = url.searchParams.get('q') ?? undefined;
  const starred = url.searchParams.get('starred');
  const status = url.searchParams.get('status') || undefined;
  const problem = checkListParams({
    query,
    starred:
      starred === null
        ? undefined
        : starred === 'true'
          ? true
          : starred === 'false'
            ? false
            : (starred as never),
    status: status as never,
  });
  if (problem) return fail(400, 1201, problem);
  const filter = { words: searchWords(query), starred: starred === 'true', status: status as never };
  const filtered = filter.words.length > 0 || filter.starred || status !== undefined;
  // A scoped user's list is their own records: the account-wide list never reaches them. The shared
  // space's filtered list is its own records too (the vendor's list has no search).
  if (scoped || (filtered && records)) return records!.listTasks(forward, userId, page.data, filter);
  if (filtered)
    return fail(400, 1201, 'Searching and filtering need task records (this proxy has store: false).');
  const reply = await proxy.forward(
    'GET',
    `${proxy.upstream}${TEXT_TO_AUDIO_PATH}?pageNum=${page.data.pageNum}&pageSize=${page.data.pageSize}`,
    undefined,
    context,
  );
  return records ? records.enrichList(reply) : reply;
}
