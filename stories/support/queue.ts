/**
 * The proxy's queue and limits for stories: answers a real proxy with limits gives (its `/usage` route,
 * a queued task, the 2001–2003 refusals), as msw handlers to put before the mock backend's.
 */
import { http, HttpResponse } from 'msw';
import { STORY_BASE_URL } from './mockBackend';

const TASKS = `${STORY_BASE_URL}/v1/audio/text-to-audio`;
const HOUR = 3_600_000;
const ok = (data: unknown) => HttpResponse.json({ code: 0, message: 'SUCCEED', request_id: 'story', data });

/** The id of the story's waiting task. */
export const QUEUED_TASK_ID = 'rka_story_waiting';

/** `GET /usage`: `used` of a 50-a-day task quota, resetting in five hours. */
export const usageHandler = (used: number, max = 50) =>
  http.get(`${STORY_BASE_URL}/usage`, () =>
    ok({
      tasks: { used, max, resets_at: Date.now() + 5 * HOUR, window: 'day' },
      units: { used: used / 4 },
      parallel: { running: 0, max: 1 },
      queued: { count: 0, max: 3 },
    }),
  );

/** Every create refused with a user-limit code (2001 task quota, 2002 units, 2003 queue full). */
export const quotaRefusal = (code: 2001 | 2002 | 2003) =>
  http.post(TASKS, () => {
    const resetsAt = Date.now() + 5 * HOUR;
    return HttpResponse.json(
      {
        code,
        message: code === 2003 ? 'queue full' : 'quota used',
        request_id: 'story',
        data:
          code === 2003
            ? { limit: 'queued', max: 3, used: 3 }
            : { limit: code === 2001 ? 'tasks' : 'units', max: 50, used: 50, resets_at: resetsAt },
      },
      {
        status: 429,
        headers: code === 2003 ? {} : { 'Retry-After': String(Math.ceil((resetsAt - Date.now()) / 1000)) },
      },
    );
  });

/** A task waiting in the proxy's queue at `position` (1 = next), for as long as anyone looks. */
export const queuedTaskHandler = (position: number, prompt = 'Footsteps on a creaky wooden floor') => {
  const createdAt = Date.now();
  return http.get(`${TASKS}/${QUEUED_TASK_ID}`, () =>
    ok({
      task_id: QUEUED_TASK_ID,
      task_status: 'queued',
      task_info: { external_task_id: 'story-ext', prompt, duration: 5, queue_position: position },
      created_at: createdAt,
      updated_at: createdAt,
    }),
  );
};
