// @vitest-environment node
/**
 * History that users manage, below the proxy: delete, edit, search and takes on each store (memory,
 * PGlite, and the real PostgreSQL of `scripts/with-postgres.sh`), with the mock vendor behind the real
 * proxy and the real client for each user.
 */
import { describe, expect, it } from 'vitest';
import type { AudioTask, ListAudioTasksParams } from '../src/api';
import { createMemoryTaskStore, type KlingTaskStore } from '../src/server';
import { createWorld, failure, raw, type World } from './records.harness';
import { storeKinds } from './stores';

const PATH = '/api/kling/v1/audio/text-to-audio';
const NASTY = '100% rain_drops "quoted" \'single\' \\ slash 🌧️';

const made = (world: World, user: string, prompt: string, extra: { groupId?: string } = {}) =>
  world.as(user).createTask({ prompt, duration: 3, ...extra });

/** Every finished task of `user` that a list with these filters answers, newest first, by prompt. */
async function prompts(world: World, user: string, params: ListAudioTasksParams) {
  const tasks = await world.as(user).listTasks({ pageSize: 100, ...params });
  return tasks.map((task: AudioTask) => task.request?.prompt);
}

describe.each(storeKinds)('history on the $name store', ({ make, skip }) => {
  const newWorld = async (): Promise<World> => createWorld(await make());

  describe.skipIf(skip)('delete and edit', () => {
    it('user B can neither delete nor edit user A’s task: 404 / 1203, and A’s stays as it was', async () => {
      const world = await newWorld();
      const task = await made(world, 'alice', 'Alice’s rain');
      await world.as('alice').updateTask(task.taskId, { title: 'Mine', starred: true });
      world.mark();
      for (const attempt of [
        () => world.as('bob').updateTask(task.taskId, { title: 'Stolen', starred: false }),
        () => world.as('bob').deleteTask(task.taskId),
        () => world.as('bob').deleteTask(task.externalTaskId!),
      ]) {
        const error = await failure(attempt());
        expect([error.httpStatus, error.code]).toEqual([404, 1203]);
      }
      expect(world.vendorRequests()).toEqual([]);
      const mine = await world.as('alice').getTask({ taskId: task.taskId });
      expect(mine).toMatchObject({ title: 'Mine', starred: true, request: { prompt: 'Alice’s rain' } });
      expect(await world.as('alice').listTasks()).toHaveLength(1);
    });

    it('PATCH renames and stars, answers the task as a get does; get and list say so; null removes the name', async () => {
      const world = await newWorld();
      const task = await made(world, 'alice', 'Door creak');
      const edited = await world.as('alice').updateTask(task.taskId, { title: '  Creaky  ', starred: true });
      expect(edited).toMatchObject({ taskId: task.taskId, title: 'Creaky', starred: true });
      expect(edited.request).toEqual({ prompt: 'Door creak', duration: 3 });
      expect(await world.as('alice').getTask({ taskId: task.taskId })).toMatchObject({ title: 'Creaky' });
      expect((await world.as('alice').listTasks())[0]).toMatchObject({ title: 'Creaky', starred: true });
      const cleared = await world.as('alice').updateTask(task.taskId, { title: null });
      expect(cleared.title).toBeUndefined();
      expect(cleared.starred).toBe(true);
      // By the browser's external id too.
      const unstarred = await world.as('alice').updateTask(task.externalTaskId!, { starred: false });
      expect(unstarred.starred).toBe(false);
    });

    it('refuses bad edits with 400 / 1201 and changes nothing', async () => {
      const world = await newWorld();
      const task = await made(world, 'alice', 'Door creak');
      for (const body of [{ title: 'x'.repeat(101) }, { starred: 'yes' }, { title: 42 }, 'not json']) {
        const answer = await raw(world, 'alice', `${PATH}/${task.taskId}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
        expect([answer.status, answer.json.code]).toEqual([400, 1201]);
      }
      const same = await world.as('alice').getTask({ taskId: task.taskId });
      expect(same.title).toBeUndefined();
      expect(same.starred).toBeFalsy();
    });

    it('DELETE removes the task from get and list; a second delete is 404', async () => {
      const world = await newWorld();
      const kept = await made(world, 'alice', 'Keep me');
      const gone = await made(world, 'alice', 'Delete me');
      await world.as('alice').deleteTask(gone.taskId);
      const error = await failure(world.as('alice').getTask({ taskId: gone.taskId }));
      expect([error.httpStatus, error.code]).toEqual([404, 1203]);
      expect((await world.as('alice').listTasks()).map((t) => t.taskId)).toEqual([kept.taskId]);
      const again = await failure(world.as('alice').deleteTask(gone.taskId));
      expect([again.httpStatus, again.code]).toEqual([404, 1203]);
    });
  });

  describe.skipIf(skip)('search and filters', () => {
    it('finds words of the prompt or the title, case-insensitive; %, _, quotes, backslash and emoji are data', async () => {
      const world = await newWorld();
      await made(world, 'alice', NASTY);
      await made(world, 'alice', '100 percent rain drops');
      const dog = await made(world, 'alice', 'A dog barking');
      await world.as('alice').updateTask(dog.taskId, { title: 'Rain-free dog' });
      await made(world, 'bob', '100% rain_drops of Bob');

      const find = (query: string) => prompts(world, 'alice', { query });
      expect(await find('%')).toEqual([NASTY]);
      expect(await find('_')).toEqual([NASTY]);
      expect(await find('100%')).toEqual([NASTY]);
      expect(await find('RAIN_')).toEqual([NASTY]);
      expect(await find('"quoted"')).toEqual([NASTY]);
      expect(await find("'single'")).toEqual([NASTY]);
      expect(await find("'; DROP TABLE x; --")).toEqual([]);
      expect(await find('\\')).toEqual([NASTY]);
      expect(await find('\\ slash')).toEqual([NASTY]);
      expect(await find('🌧️')).toEqual([NASTY]);
      expect(await find('x'.repeat(200))).toEqual([]);
      expect(await find(NASTY.slice(0, 20).padEnd(200, ' '))).toEqual([NASTY]);
      // Every word must occur, in the prompt or the title; newest first.
      expect(await find('rain')).toEqual(['A dog barking', '100 percent rain drops', NASTY]);
      expect(await find('dog rain-free')).toEqual(['A dog barking']);
      expect(await find('rain percent')).toEqual(['100 percent rain drops']);
      // Another user's tasks never match.
      expect(await find('bob')).toEqual([]);
      // Longer than 200: refused before any request.
      const error = await failure(world.as('alice').listTasks({ query: 'x'.repeat(201) }));
      expect(error.kind).toBe('validation');
      const tooLong = await raw(world, 'alice', `${PATH}?q=${'x'.repeat(201)}`);
      expect([tooLong.status, tooLong.json.code]).toEqual([400, 1201]);
    });

    it('filters by star and by status, pages the result, newest first', async () => {
      const world = await newWorld();
      for (let i = 0; i < 5; i++) {
        const task = await made(world, 'alice', `Sound ${i}`);
        if (i % 2 === 0) await world.as('alice').updateTask(task.taskId, { starred: true });
        world.advance(10);
      }
      expect(await prompts(world, 'alice', { starred: true })).toEqual(['Sound 4', 'Sound 2', 'Sound 0']);
      const page2 = await world.as('alice').listTasks({ starred: true, pageNum: 2, pageSize: 2 });
      expect(page2.map((t) => t.request?.prompt)).toEqual(['Sound 0']);
      world.advance(5000);
      // The records learn of the finish through a list, then filter on it.
      await world.as('alice').listTasks();
      expect(await prompts(world, 'alice', { status: 'succeed', starred: true })).toEqual([
        'Sound 4',
        'Sound 2',
        'Sound 0',
      ]);
      expect(await prompts(world, 'alice', { status: 'failed' })).toEqual([]);
      const bad = await raw(world, 'alice', `${PATH}?status=done`);
      expect([bad.status, bad.json.code]).toEqual([400, 1201]);
    });
  });

  describe.skipIf(skip)('takes', () => {
    it('records group_id, answers it as task_info.group_id, and never forwards it to the vendor', async () => {
      const world = await newWorld();
      world.mark();
      const takes = await Promise.all(
        [1, 2, 3].map(() => made(world, 'alice', 'Sword unsheathed', { groupId: 'group-1' })),
      );
      expect(takes.map((t) => t.groupId)).toEqual(['group-1', 'group-1', 'group-1']);
      const creates = world.vendorRequests().filter((r) => r.method === 'POST');
      expect(creates).toHaveLength(3);
      for (const create of creates) expect(create.body).not.toHaveProperty('group_id');
      const listed = await world.as('alice').listTasks();
      expect(listed.map((t) => t.groupId)).toEqual(['group-1', 'group-1', 'group-1']);
      expect((await world.as('alice').getTask({ taskId: takes[0]!.taskId })).groupId).toBe('group-1');
    });
  });
});

describe('history without records', () => {
  it('answers DELETE and PATCH with 405 when the proxy keeps no records (store: false)', async () => {
    const world = createWorld(createMemoryTaskStore() as KlingTaskStore, { proxy: { store: false } });
    const task = await world.as(true).createTask({ prompt: 'Shared', duration: 3 });
    for (const method of ['DELETE', 'PATCH']) {
      const answer = await raw(world, 'shared', `${PATH}/${task.taskId}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'PATCH' ? JSON.stringify({ starred: true }) : undefined,
      });
      expect([answer.status, answer.json.code]).toEqual([405, 1202]);
    }
  });
});
