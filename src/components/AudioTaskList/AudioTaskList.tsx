import {
  forwardRef,
  useEffect,
  useId,
  useRef,
  useState,
  type ComponentPropsWithoutRef,
  type RefObject,
} from 'react';
import { listMessages, type KlingAudioMessages } from '../../api/messages';
import {
  isTerminalStatus,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
  type AudioTask,
} from '../../api/schemas';
import { useAudioTaskList } from '../../hooks/useAudioTaskList';
import { AudioResultPlayer } from '../AudioResultPlayer';
import { join, partOf, useComponentMessages, useControllableState } from '../internal';

/** What the list shows, as `data-state` on its root. */
export type AudioTaskListState = 'loading' | 'ready' | 'empty' | 'error';

export interface AudioTaskListProps extends Omit<
  ComponentPropsWithoutRef<'section'>,
  'children' | 'onSelect'
> {
  /** Tasks per page (1–500), controlled. Without `onPageSizeChange` the page-size choice is hidden. */
  pageSize?: number;
  /** Tasks per page at first render, uncontrolled. Defaults to `30` (the vendor's default). */
  defaultPageSize?: number;
  /** Called when the person picks another page size (the list goes back to page 1). */
  onPageSizeChange?: (pageSize: number) => void;
  /** The choices of the page-size select. Defaults to `[10, 30, 50, 100]` (plus the current size). */
  pageSizeOptions?: readonly number[];
  /** The page (1–1000), controlled. Use with `onPageNumChange`. */
  pageNum?: number;
  /** The page at first render, uncontrolled. Defaults to `1`. */
  defaultPageNum?: number;
  onPageNumChange?: (pageNum: number) => void;
  /** Called with a task when its row's button is pressed. Without it, rows have no button. */
  onSelect?: (task: AudioTask) => void;
  /** The task shown as selected (`aria-current` on its button, `data-selected` on its row). */
  selectedTaskId?: string;
  /** The level of the list's heading. Defaults to `2`. */
  headingLevel?: 2 | 3 | 4 | 5 | 6;
  /** Replacements for any string of this list. Defaults to the provider's messages. */
  messages?: Partial<KlingAudioMessages>;
}

const part = partOf('AudioTaskList');
const DEFAULT_PAGE_SIZES = [10, 30, 50, 100];

// The rows that show their player from the first render (and in a server render): about a screenful.
const EAGER_PLAYERS = 10;
const NO_ROWS: ReadonlySet<string> = new Set();

/**
 * The task ids of the rows that have come near the viewport, once and for good. A page of 500 would
 * otherwise mount 500 players (an `<audio>` element, observers and some twenty elements each) for the
 * few anyone sees; a player, once mounted, stays, so a clip keeps playing when its row scrolls away.
 * One observer per list watches the rows' placeholders (`data-task-id`).
 */
function useRowsNearViewport(items: RefObject<HTMLOListElement | null>, tasks: readonly AudioTask[]) {
  const [near, setNear] = useState(NO_ROWS);
  useEffect(() => {
    const placeholders = items.current?.querySelectorAll<HTMLElement>('[data-task-id]');
    if (!placeholders?.length) return;
    const add = (ids: string[]) => ids.length > 0 && setNear((current) => new Set([...current, ...ids]));
    // Without IntersectionObserver, every row counts as near once it is on the page (as the player does).
    if (typeof IntersectionObserver === 'undefined') {
      add([...placeholders].map((node) => node.dataset.taskId!));
      return;
    }
    const observer = new IntersectionObserver(
      (entries) =>
        add(
          entries
            .filter((entry) => entry.isIntersecting)
            .map((entry) => (entry.target as HTMLElement).dataset.taskId!),
        ),
      // A screen ahead: keyboard focus and scrolling find a player already there.
      { rootMargin: '100% 0px' },
    );
    placeholders.forEach((node) => observer.observe(node));
    return () => observer.disconnect();
  }, [items, tasks]);
  return near;
}

const clampPageSize = (value: number) =>
  Math.min(PAGE_SIZE_MAX, Math.max(PAGE_SIZE_MIN, Math.round(value) || PAGE_SIZE_DEFAULT));

/**
 * One page of generated sounds, newest first: status badges, the prompt where this browser knows it
 * (`task.request`), when each was made and how long it is, the reason of a failure, and a player for each
 * finished one. Previous/next and a page-size choice; the previous page stays visible (`aria-busy`) while
 * the next loads.
 *
 * @example
 * <AudioTaskList pageSize={20} onSelect={(task) => setTaskId(task.taskId)} />
 */
export const AudioTaskList = forwardRef<HTMLElement, AudioTaskListProps>(function AudioTaskList(
  {
    pageSize: pageSizeProp,
    defaultPageSize = PAGE_SIZE_DEFAULT,
    onPageSizeChange,
    pageSizeOptions = DEFAULT_PAGE_SIZES,
    pageNum: pageNumProp,
    defaultPageNum = 1,
    onPageNumChange,
    onSelect,
    selectedTaskId,
    headingLevel = 2,
    messages,
    className,
    ...props
  },
  ref,
) {
  const { m, locale } = useComponentMessages(listMessages, messages);
  const id = useId();
  const [pageNum, setPageNum] = useControllableState(pageNumProp, defaultPageNum, onPageNumChange);
  const [rawPageSize, setPageSize] = useControllableState(pageSizeProp, defaultPageSize, onPageSizeChange);
  const pageSize = clampPageSize(rawPageSize);
  const list = useAudioTaskList({ pageNum, pageSize });
  const { tasks, hasNextPage, hasPreviousPage, isPlaceholderData, error } = list;
  const itemsRef = useRef<HTMLOListElement>(null);
  const nearRows = useRowsNearViewport(itemsRef, tasks);

  const showError = Boolean(error) && !list.data;
  const state: AudioTaskListState = showError
    ? 'error'
    : list.isPending
      ? 'loading'
      : tasks.length === 0
        ? 'empty'
        : 'ready';
  // The previous page stays on screen while the next one loads. `isFetching` is read only then: a read
  // property re-renders the list at the start and end of every background poll.
  const busy = (isPlaceholderData && list.isFetching) || list.isPending;
  const sizes = [...new Set([...pageSizeOptions, pageSize])].sort((a, b) => a - b);
  // A page size the app fixed (controlled, with no way to report a change) is not offered as a choice.
  const canChoosePageSize = pageSizeProp === undefined || onPageSizeChange !== undefined;
  const Heading = `h${headingLevel}` as const;
  const headingId = `${id}-heading`;

  return (
    <section
      aria-labelledby={headingId}
      {...props}
      ref={ref}
      className={join('rka-AudioTaskList', className)}
      data-part="root"
      data-state={state}
      aria-busy={busy || undefined}
    >
      <Heading {...part('heading')} id={headingId}>
        {m.listLabel}
      </Heading>

      {state === 'loading' && (
        <p {...part('loading')} role="status">
          {m.listLoading}
        </p>
      )}
      {state === 'empty' && <p {...part('empty')}>{m.listEmpty}</p>}
      {showError && (
        <div {...part('error')} role="alert">
          <p {...part('error-title')}>{m.listError}</p>
          <p {...part('error-text')}>{m.errorText(error)}</p>
          <button {...part('retry')} type="button" onClick={() => void list.refetch()}>
            {m.retry}
          </button>
        </div>
      )}

      {tasks.length > 0 && (
        <ol {...part('items')} ref={itemsRef} data-placeholder={isPlaceholderData ? '' : undefined}>
          {tasks.map((task, index) => {
            const title = task.request?.prompt || m.untitledTask(task.taskId);
            // The WAV is the sound as made; an MP3 is a few frames longer (encoder delay and padding).
            const duration = task.request?.duration ?? task.audios[0]?.wavDuration;
            const selected = task.taskId === selectedTaskId;
            return (
              <li
                key={task.taskId}
                {...part('item')}
                data-status={task.status}
                data-selected={selected ? '' : undefined}
              >
                <div {...part('item-header')}>
                  <span {...part('status')} data-status={task.status}>
                    {m.status(task.status)}
                  </span>
                  {onSelect ? (
                    <button
                      {...part('select')}
                      type="button"
                      aria-current={selected || undefined}
                      onClick={() => onSelect(task)}
                    >
                      {title}
                    </button>
                  ) : (
                    <p {...part('title')}>{title}</p>
                  )}
                </div>
                <p {...part('meta')}>
                  <time {...part('created-at')} dateTime={new Date(task.createdAt).toISOString()}>
                    {m.listCreatedAt(task.createdAt, locale)}
                  </time>
                  {duration !== undefined && (
                    <span {...part('duration')}>{m.duration(duration, locale)}</span>
                  )}
                  {task.unitsDeducted && isTerminalStatus(task.status) && (
                    <span {...part('units')}>{m.unitsSpent(task.unitsDeducted, locale)}</span>
                  )}
                </p>
                {task.status === 'failed' && (
                  <p {...part('reason')}>{task.statusMessage || m.failedReasonUnknown}</p>
                )}
                {task.status === 'succeed' &&
                  task.audios.length > 0 &&
                  (index < EAGER_PLAYERS || nearRows.has(task.taskId) ? (
                    // The row already says what the sound is; the player's own title is hidden by the CSS.
                    <AudioResultPlayer {...part('player')} task={task} messages={messages} announce={false} />
                  ) : (
                    // Holds the player's place (same size) until the row comes near the viewport.
                    <div {...part('player-placeholder')} data-task-id={task.taskId} aria-hidden />
                  ))}
              </li>
            );
          })}
        </ol>
      )}

      {(pageNum > 1 || tasks.length > 0) && (
        <nav {...part('pagination')} aria-label={m.listPagination}>
          {/* aria-disabled, not disabled: while the next page loads "Next" is briefly unavailable, and a
            disabled button would drop keyboard focus to the start of the page. */}
          <button
            {...part('previous')}
            type="button"
            aria-disabled={!hasPreviousPage || undefined}
            onClick={() => hasPreviousPage && setPageNum(pageNum - 1)}
          >
            {m.listPrevious}
          </button>
          <span {...part('page')} aria-live="polite">
            {m.listPage(pageNum, locale)}
          </span>
          <button
            {...part('next')}
            type="button"
            aria-disabled={!hasNextPage || undefined}
            onClick={() => hasNextPage && setPageNum(pageNum + 1)}
          >
            {m.listNext}
          </button>
          {canChoosePageSize && (
            <label {...part('page-size')}>
              <span {...part('page-size-label')}>{m.listPageSize}</span>
              <select
                {...part('page-size-select')}
                value={pageSize}
                onChange={(event) => {
                  setPageSize(Number(event.target.value));
                  setPageNum(1);
                }}
              >
                {sizes.map((size) => (
                  <option key={size} value={size}>
                    {new Intl.NumberFormat(locale).format(size)}
                  </option>
                ))}
              </select>
            </label>
          )}
        </nav>
      )}
    </section>
  );
});
