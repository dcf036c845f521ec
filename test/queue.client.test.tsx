/**
 * The queue and the limits as the browser sees them: the `queued` status and its place in line, the
 * user's usage, and the quota refusals (2001–2003). The proxy here is a scripted stand-in (msw) so each
 * step of a task's life is set by the test; the real proxy's queue is tested in test/queue.*.test.ts.
 */
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  AudioTaskList,
  createKlingAudioClient,
  getUserMessage,
  SoundPromptForm,
  TextToAudioStudio,
  useAudioTask,
  useAudioUsage,
} from '../src';
import { KLING_ERROR_CODES } from '../src/api/errors';
import { BASE_URL, renderWithProvider } from './render';
import { server } from './server';

const TASKS = `${BASE_URL}/v1/audio/text-to-audio`;
const HOUR = 3_600_000;
const ok = (data: unknown, init?: ResponseInit) =>
  HttpResponse.json({ code: 0, message: 'SUCCEED', request_id: 'req', data }, init);

const NOW = Date.now();
type WireTask = Record<string, unknown> & { task_id: string; task_status: string };

const queuedTask = (position: number): WireTask => ({
  task_id: 'rka_1',
  task_status: 'queued',
  task_info: { external_task_id: 'ext_1', prompt: 'Owl hooting', duration: 5, queue_position: position },
  created_at: NOW,
  updated_at: NOW + 10 - position,
});

/** A scripted proxy: the test sets the task and the usage; every request is counted. */
function useScriptedProxy(initial: { task?: WireTask; usage?: Record<string, unknown> } = {}) {
  const state = {
    task: initial.task,
    usage: initial.usage ?? {
      tasks: { used: 0 },
      units: { used: 0 },
      parallel: { running: 0 },
      queued: { count: 0, max: 20 },
    },
    createAnswer: undefined as (() => Response) | undefined,
    usageGets: 0,
    deletes: [] as string[],
    posts: 0,
    gets: 0,
  };
  server.use(
    http.get(`${BASE_URL}/usage`, () => {
      state.usageGets++;
      return ok(state.usage);
    }),
    http.post(TASKS, async () => {
      state.posts++;
      if (state.createAnswer) return state.createAnswer();
      return ok(state.task);
    }),
    http.get(`${TASKS}/:id`, ({ params }) => {
      state.gets++;
      return state.task && params.id === state.task.task_id
        ? ok(state.task)
        : HttpResponse.json({ code: 1203, message: 'not found' }, { status: 404 });
    }),
    http.get(TASKS, () => ok(state.task ? [state.task] : [])),
    http.delete(`${TASKS}/:id`, ({ params }) => {
      state.deletes.push(String(params.id));
      state.task = undefined;
      return ok(null);
    }),
  );
  return state;
}

describe('the client reads the queue and the usage', () => {
  const client = createKlingAudioClient({ baseUrl: `http://proxy.test${BASE_URL}` });
  const PROXY_TASKS = `http://proxy.test${TASKS}`;

  it('maps a queued task (place in line) and a sent one (the vendor’s own id)', async () => {
    server.use(
      http.get(`${PROXY_TASKS}/:id`, ({ params }) =>
        ok(
          params.id === 'rka_1'
            ? queuedTask(2)
            : {
                task_id: 'rka_2',
                task_status: 'processing',
                task_info: { vendor_task_id: 'vendor_9', queue_position: 4 },
                created_at: 1,
                updated_at: 2,
              },
        ),
      ),
    );
    const queued = await client.getTask({ taskId: 'rka_1' });
    expect(queued).toMatchObject({ taskId: 'rka_1', status: 'queued', queue: { position: 2 } });
    expect(queued.vendorTaskId).toBeUndefined();
    const sent = await client.getTask({ taskId: 'rka_2' });
    expect(sent).toMatchObject({ taskId: 'rka_2', status: 'processing', vendorTaskId: 'vendor_9' });
    // A place in line means nothing once the task has left the queue.
    expect(sent.queue).toBeUndefined();
  });

  it('getUsage answers the figures in the model’s names', async () => {
    const urls: string[] = [];
    server.use(
      http.get(`http://proxy.test${BASE_URL}/usage`, ({ request }) => {
        urls.push(request.url);
        return ok({
          tasks: { used: 38, max: 50, resets_at: 1_800_000_000_000, window: 'day' },
          units: { used: 9.5 },
          parallel: { running: 1, max: 2 },
          queued: { count: 3, max: 20 },
        });
      }),
    );
    expect(await client.getUsage()).toEqual({
      tasks: { used: 38, max: 50, resetsAt: 1_800_000_000_000, window: 'day' },
      units: { used: 9.5 },
      parallel: { running: 1, max: 2 },
      queued: { count: 3, max: 20 },
    });
    expect(urls).toEqual([`http://proxy.test${BASE_URL}/usage`]);
  });

  it.each([2001, 2002, 2003])('code %i is a 429 that is never retried, in plain words', async (code) => {
    server.use(
      http.post(PROXY_TASKS, () =>
        HttpResponse.json(
          { code, message: 'limit', data: { limit: 'tasks', max: 3, used: 3, resets_at: 2 } },
          { status: 429, headers: { 'Retry-After': '60' } },
        ),
      ),
    );
    const error = await client.createTask({ prompt: 'rain', duration: 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      kind: 'api',
      code,
      httpStatus: 429,
      retryable: false,
      retryAfterMs: 60_000,
    });
    expect(getUserMessage(error)).toBe(KLING_ERROR_CODES[code as 2001].message);
  });
});

describe('a queued task on screen', () => {
  it('shows its place in line as it moves, then the vendor’s progress, by polling', async () => {
    const proxy = useScriptedProxy({ task: queuedTask(2) });
    renderWithProvider(<TextToAudioStudio defaultTaskId="rka_1" />, { updates: 'poll' });
    expect(await screen.findByText('Waiting for a free slot — 2nd in line')).toBeInTheDocument();
    // The player says the status word; the studio says where in line.
    const player = document.querySelector('.rka-AudioResultPlayer')!;
    expect(player).toHaveAttribute('data-status', 'queued');
    expect(within(player as HTMLElement).getByText('Queued')).toBeInTheDocument();

    proxy.task = queuedTask(1);
    expect(await screen.findByText('Waiting for a free slot — 1st in line')).toBeInTheDocument();

    proxy.task = { ...queuedTask(1), task_status: 'submitted', updated_at: NOW + 5_000 };
    delete (proxy.task.task_info as Record<string, unknown>).queue_position;
    await waitFor(() => expect(screen.queryByText(/Waiting for a free slot —/)).not.toBeInTheDocument());
    proxy.task = { ...proxy.task, task_status: 'processing', updated_at: NOW + 6_000 };
    await waitFor(() => expect(player).toHaveAttribute('data-status', 'processing'));
  });

  it('the studio announces the wait once, in its own live region', async () => {
    useScriptedProxy({ task: queuedTask(3) });
    renderWithProvider(<TextToAudioStudio defaultTaskId="rka_1" />, { updates: 'poll' });
    await waitFor(() =>
      expect(screen.getAllByRole('status').map((node) => node.textContent)).toContain(
        'Waiting for a free slot: Owl hooting',
      ),
    );
    expect(screen.getByText('Waiting for a free slot — 3rd in line')).toBeInTheDocument();
  });
});

describe('Cancel of a queued task', () => {
  it('offers no Cancel once the task reached the vendor (it runs and is billed)', async () => {
    useScriptedProxy({ task: { ...queuedTask(1), task_status: 'processing', updated_at: NOW + 50 } });
    renderWithProvider(<TextToAudioStudio defaultTaskId="rka_1" />, { updates: 'poll' });
    await waitFor(() =>
      expect(document.querySelector('.rka-AudioResultPlayer')).toHaveAttribute('data-status', 'processing'),
    );
    expect(screen.queryByRole('button', { name: /Cancel waiting/ })).not.toBeInTheDocument();
  });

  it('in the studio, Cancel empties the current sound and is announced', async () => {
    const proxy = useScriptedProxy({ task: queuedTask(1) });
    renderWithProvider(<TextToAudioStudio defaultTaskId="rka_1" />, { updates: 'poll' });
    await userEvent
      .setup()
      .click(await screen.findByRole('button', { name: 'Cancel waiting sound: Owl hooting' }));
    await waitFor(() =>
      expect(screen.getAllByRole('status').map((node) => node.textContent)).toContain(
        'Cancelled before it started: nothing was spent.',
      ),
    );
    expect(proxy.deletes).toEqual(['rka_1']);
    expect(screen.getByText('Describe a sound and generate it: it will appear here.')).toBeInTheDocument();
  });
});

describe('the history shows what finished tasks cost', () => {
  it('a finished row shows the units the vendor reported; a queued row its badge', async () => {
    const finished = {
      ...queuedTask(1),
      task_id: 'task_done',
      task_status: 'succeed',
      final_unit_deduction: '0.25',
      task_result: { audios: [] },
    };
    server.use(http.get(TASKS, () => ok([queuedTask(1), finished])));
    renderWithProvider(<AudioTaskList />, { updates: 'poll' });
    // The history is a grid: one row per task, after the (hidden) column headers.
    await screen.findByText('0.25 units');
    const rows = screen.getAllByRole('row').filter((row) => row.hasAttribute('data-status'));
    expect(rows[0]).toHaveAttribute('data-status', 'queued');
    expect(within(rows[0]!).getAllByText('Queued').length).toBeGreaterThan(0);
    expect(within(rows[1]!).getByText('0.25 units')).toBeInTheDocument();
    expect(within(rows[0]!).queryByText(/units/)).not.toBeInTheDocument();
  });
});

describe('<SoundPromptForm> and the user’s limits', () => {
  const usage = (used: number) => ({
    tasks: { used, max: 50, resets_at: Date.now() + 5 * HOUR, window: 'day' },
    units: { used: used / 4 },
    parallel: { running: 0 },
    queued: { count: 0, max: 20 },
  });

  it('shows what is left, and the figure after a create', async () => {
    const proxy = useScriptedProxy({ task: queuedTask(1), usage: usage(38) });
    renderWithProvider(<SoundPromptForm />);
    expect(await screen.findByText('12 of 50 sounds left today')).toBeInTheDocument();
    // The submit button carries it as its description.
    expect(screen.getByRole('button', { name: 'Generate sound' })).toHaveAccessibleDescription(
      '12 of 50 sounds left today',
    );

    proxy.usage = usage(39);
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Describe the sound' }), 'Owl hooting');
    await user.click(screen.getByRole('button', { name: 'Generate sound' }));
    expect(await screen.findByText('11 of 50 sounds left today')).toBeInTheDocument();
    expect(proxy.posts).toBe(1);
    expect(proxy.usageGets).toBe(2);
  });

  it('says a used-up quota in plain words with when it resets, and sends once', async () => {
    const proxy = useScriptedProxy({ usage: usage(50) });
    const resetsAt = (proxy.usage as ReturnType<typeof usage>).tasks.resets_at;
    proxy.createAnswer = () =>
      HttpResponse.json(
        {
          code: 2001,
          message: 'task quota used',
          data: { limit: 'tasks', max: 50, used: 50, resets_at: resetsAt },
        },
        { status: 429, headers: { 'Retry-After': String(Math.ceil((resetsAt - Date.now()) / 1000)) } },
      );
    renderWithProvider(<SoundPromptForm />);
    expect(await screen.findByText('0 of 50 sounds left today')).toHaveAttribute('data-state', 'used-up');
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Describe the sound' }), 'Owl hooting');
    await user.click(screen.getByRole('button', { name: 'Generate sound' }));

    const alert = await screen.findByRole('alert');
    const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
      resetsAt,
    );
    expect(alert).toHaveTextContent(`${KLING_ERROR_CODES[2001].message} You can make more from ${when}.`);
    expect(alert).toHaveAttribute('data-code', '2001');
    expect(proxy.posts).toBe(1);
  });

  it('says a full queue in plain words, without a reset time', async () => {
    const proxy = useScriptedProxy();
    proxy.createAnswer = () =>
      HttpResponse.json(
        { code: 2003, message: 'queue full', data: { limit: 'queued', max: 2, used: 2 } },
        { status: 429 },
      );
    renderWithProvider(<SoundPromptForm />);
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Describe the sound' }), 'Owl hooting');
    await user.click(screen.getByRole('button', { name: 'Generate sound' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      new RegExp(`^${KLING_ERROR_CODES[2003].message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
    expect(proxy.posts).toBe(1);
    // Without limits there is nothing to count down.
    expect(screen.queryByText(/left today/)).not.toBeInTheDocument();
  });

  it('shows nothing, and asks once, where the proxy has no usage route', async () => {
    let asked = 0;
    server.use(
      http.get(`${BASE_URL}/usage`, () => {
        asked++;
        return HttpResponse.json({ code: 1203, message: 'no such API' }, { status: 404 });
      }),
    );
    const { rerender } = renderWithProvider(<SoundPromptForm />);
    await waitFor(() => expect(asked).toBe(1));
    rerender(<SoundPromptForm key="again" />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asked).toBe(1);
    expect(screen.queryByText(/left/)).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('useAudioUsage', () => {
  function UsageAndTask() {
    const { usage } = useAudioUsage();
    const { taskStatus } = useAudioTask('rka_1');
    return (
      <p>
        {taskStatus} · {usage ? `${usage.units.used} units, ${usage.queued.count} waiting` : 'loading'}
      </p>
    );
  }

  it('is refreshed when a watched task leaves the queue and when it ends', async () => {
    const proxy = useScriptedProxy({ task: queuedTask(1) });
    proxy.usage = {
      tasks: { used: 1 },
      units: { used: 0.25 },
      parallel: { running: 0 },
      queued: { count: 1 },
    };
    renderWithProvider(<UsageAndTask />, { updates: 'poll' });
    expect(await screen.findByText('queued · 0.25 units, 1 waiting')).toBeInTheDocument();
    expect(proxy.usageGets).toBe(1);

    proxy.usage = {
      tasks: { used: 1 },
      units: { used: 0.25 },
      parallel: { running: 1 },
      queued: { count: 0 },
    };
    proxy.task = { ...queuedTask(1), task_status: 'processing', updated_at: NOW + 5_000 };
    expect(await screen.findByText('processing · 0.25 units, 0 waiting')).toBeInTheDocument();
    expect(proxy.usageGets).toBe(2);

    // Polls of an unchanged task do not ask again.
    const polls = proxy.gets;
    await waitFor(() => expect(proxy.gets).toBeGreaterThan(polls + 1));
    expect(proxy.usageGets).toBe(2);

    proxy.usage = {
      tasks: { used: 1 },
      units: { used: 0.3 },
      parallel: { running: 0 },
      queued: { count: 0 },
    };
    proxy.task = { ...proxy.task, task_status: 'failed', task_status_msg: 'x', updated_at: NOW + 6_000 };
    expect(await screen.findByText('failed · 0.3 units, 0 waiting')).toBeInTheDocument();
    expect(proxy.usageGets).toBe(3);
  });
});
