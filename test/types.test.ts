/**
 * Type-level checks of the public API. `npm run typecheck` is what enforces them (a wrong type fails
 * `tsc`); at run time these calls do nothing.
 */
import type { QueryKey, UseMutationResult, UseQueryResult } from '@tanstack/react-query';
import { describe, expectTypeOf, it } from 'vitest';
import {
  audioTaskKeys,
  audioTaskListQueryOptions,
  audioTaskQueryOptions,
  createAudioTaskInputSchema,
  createKlingAudioClient,
  type KlingApiError,
  useAudioTask,
  type useAudioTaskList,
  type useCreateAudioTask,
  usePendingAudioTasks,
  type AudioTask,
  type AudioTaskStatus,
  type CreateAudioTaskInput,
  type GeneratedAudio,
  type KlingApiErrorKind,
} from '../src';

describe('public types', () => {
  it('hands out the domain model, with errors typed as KlingApiError', () => {
    expectTypeOf(useAudioTask)
      .parameter(0)
      .toEqualTypeOf<string | { taskId: string } | { externalTaskId: string } | null | undefined>();
    type TaskResult = ReturnType<typeof useAudioTask>;
    expectTypeOf<TaskResult>().toMatchTypeOf<UseQueryResult<AudioTask, KlingApiError>>();
    expectTypeOf<TaskResult['task']>().toEqualTypeOf<AudioTask | undefined>();
    expectTypeOf<TaskResult['taskStatus']>().toEqualTypeOf<AudioTaskStatus | undefined>();
    expectTypeOf<TaskResult['audios']>().toEqualTypeOf<GeneratedAudio[]>();

    type ListResult = ReturnType<typeof useAudioTaskList>;
    expectTypeOf<ListResult['tasks']>().toEqualTypeOf<AudioTask[]>();
    expectTypeOf<ListResult['hasNextPage']>().toEqualTypeOf<boolean>();

    type CreateResult = ReturnType<typeof useCreateAudioTask>;
    expectTypeOf<CreateResult>().toMatchTypeOf<
      UseMutationResult<AudioTask, KlingApiError, CreateAudioTaskInput>
    >();
    expectTypeOf<CreateResult['retryAt']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<CreateResult['cancel']>().toEqualTypeOf<() => void>();
    expectTypeOf(usePendingAudioTasks).returns.toEqualTypeOf<readonly string[]>();
    expectTypeOf<KlingApiError['kind']>().toEqualTypeOf<KlingApiErrorKind>();
  });

  it('keeps the input schema and the input type as one', () => {
    expectTypeOf<CreateAudioTaskInput>().toEqualTypeOf<{
      prompt: string;
      duration: number;
      externalTaskId?: string | undefined;
      callbackUrl?: string | undefined;
      groupId?: string | undefined;
    }>();
    expectTypeOf(createAudioTaskInputSchema.parse).returns.toMatchTypeOf<CreateAudioTaskInput>();
  });

  it('gives query options whose data is typed for useSuspenseQuery and prefetching', () => {
    const client = createKlingAudioClient({ baseUrl: '/api/kling' });
    expectTypeOf(audioTaskQueryOptions(client, 't').queryFn).returns.resolves.toEqualTypeOf<AudioTask>();
    expectTypeOf(audioTaskListQueryOptions(client).queryFn).returns.resolves.toEqualTypeOf<AudioTask[]>();
    expectTypeOf(audioTaskKeys.all).toMatchTypeOf<QueryKey>();
    expectTypeOf(audioTaskKeys.task('t')).toMatchTypeOf<QueryKey>();
    expectTypeOf(client.listTasks).returns.resolves.toEqualTypeOf<AudioTask[]>();
  });
});
