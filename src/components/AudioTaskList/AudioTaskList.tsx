import {
  forwardRef,
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type ComponentPropsWithoutRef,
} from 'react';
import { listMessages, type KlingAudioMessages } from '../../api/messages';
import {
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
  TAKES_MAX,
  TAKES_MIN,
  type AudioTask,
  type AudioTaskStatus,
} from '../../api/schemas';
import { useAudioTaskList } from '../../hooks/useAudioTaskList';
import { useCreateAudioTakes } from '../../hooks/useCreateAudioTakes';
import { useCreateAudioTask } from '../../hooks/useCreateAudioTask';
import { useDeleteAudioTask } from '../../hooks/useDeleteAudioTask';
import { useUpdateAudioTask } from '../../hooks/useUpdateAudioTask';
import { AudioResultPlayer, useAudioPlayer } from '../AudioResultPlayer';
import { join, partOf, useComponentMessages, useControllableState, visuallyHidden } from '../internal';
import { TaskRow, type RowActions, type RowPlayback } from './TaskRow';
import { useGridNavigation } from './useGridNavigation';

/** What the list shows, as `data-state` on its root. `no-match`: a search or filter found nothing. */
export type AudioTaskListState = 'loading' | 'ready' | 'empty' | 'no-match' | 'error';

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
  /** The search (words of the prompt or title), controlled. Use with `onQueryChange`. */
  query?: string;
  /** The search at first render, uncontrolled. Defaults to `''` (every sound). */
  defaultQuery?: string;
  /** Called with the search a moment after the person stops typing (the list goes back to page 1). */
  onQueryChange?: (query: string) => void;
  /** Starred sounds only, controlled. Use with `onStarredOnlyChange`. */
  starredOnly?: boolean;
  /** Starred sounds only at first render, uncontrolled. Defaults to `false`. */
  defaultStarredOnly?: boolean;
  onStarredOnlyChange?: (starredOnly: boolean) => void;
  /** Sounds in this status only. Defaults to every status. */
  status?: AudioTaskStatus;
  /** Called with a task when its name is pressed (or Enter on it). Without it, rows are not selectable. */
  onSelect?: (task: AudioTask) => void;
  /** The task shown as selected (`aria-selected` on its row, `aria-current` on its name). */
  selectedTaskId?: string;
  /**
   * Show the full player under the selected row. Turn it off where the selected sound is already shown
   * in full elsewhere (the studio's current sound). Defaults to `true`.
   */
  expandSelected?: boolean;
  /** Adds "Reuse the prompt" to each row's menu: called with the task (e.g. to fill a form). Defaults to none. */
  onReuse?: (task: AudioTask) => void;
  /** Called with the tasks that "Generate again" (one) or "Make takes" (several) created. */
  onCreated?: (tasks: AudioTask[]) => void;
  /** Called with the tasks whose delete was sent (after the Undo moment). */
  onDelete?: (tasks: AudioTask[]) => void;
  /** How many takes "Make takes" makes (2–4). Defaults to `3`. */
  takesCount?: number;
  /** How long a delete can be undone before it is sent, in ms. Defaults to `5000`. */
  undoMs?: number;
  /** The level of the list's heading. Defaults to `2`. */
  headingLevel?: 2 | 3 | 4 | 5 | 6;
  /** Replacements for any string of this list. Defaults to the provider's messages. */
  messages?: Partial<KlingAudioMessages>;
}

const part = partOf('AudioTaskList');
const DEFAULT_PAGE_SIZES = [10, 30, 50, 100];
const SEARCH_DEBOUNCE_MS = 300;
const COLUMNS = 5;

const clampPageSize = (value: number) =>
  Math.min(PAGE_SIZE_MAX, Math.max(PAGE_SIZE_MIN, Math.round(value) || PAGE_SIZE_DEFAULT));

/** Rows in the order shown: a single task, or the takes of one group next to each other. */
type Block = { kind: 'task'; task: AudioTask } | { kind: 'group'; groupId: string; tasks: AudioTask[] };

function toBlocks(tasks: readonly AudioTask[]): Block[] {
  const blocks: Block[] = [];
  for (const task of tasks) {
    const last = blocks.at(-1);
    if (task.groupId && last?.kind === 'group' && last.groupId === task.groupId) last.tasks.push(task);
    else if (task.groupId) blocks.push({ kind: 'group', groupId: task.groupId, tasks: [task] });
    else blocks.push({ kind: 'task', task });
  }
  // A group of one (its other takes are on another page, or deleted) is a plain row.
  return blocks.map((block) =>
    block.kind === 'group' && block.tasks.length < 2 ? { kind: 'task', task: block.tasks[0]! } : block,
  );
}

interface PendingDelete {
  key: number;
  tasks: AudioTask[];
  title: string;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The history: compact rows (play/pause, the name or the prompt, a small waveform or a progress line, the
 * length and the time, a star and an actions menu: rename, reuse the prompt, generate again, make takes,
 * download MP3/WAV, delete with Undo), a search field and a Starred filter above, takes made together side
 * by side with Keep and "Discard the others", and the full player under the selected row. The rows are a
 * WAI-ARIA grid: one tab stop, arrows between cells and rows, Enter plays. Previous/next and a page size
 * below; the previous page stays on screen (`aria-busy`) while the next loads.
 *
 * @example
 * <AudioTaskList defaultPageSize={20} onSelect={(task) => setTaskId(task.taskId)} />
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
    query: queryProp,
    defaultQuery = '',
    onQueryChange,
    starredOnly: starredOnlyProp,
    defaultStarredOnly = false,
    onStarredOnlyChange,
    status,
    onSelect,
    selectedTaskId,
    expandSelected = true,
    onReuse,
    onCreated,
    onDelete,
    takesCount = 3,
    undoMs = 5000,
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
  const [query, setQuery] = useControllableState(queryProp, defaultQuery, onQueryChange);
  const [starredOnly, setStarredOnly] = useControllableState(
    starredOnlyProp,
    defaultStarredOnly,
    onStarredOnlyChange,
  );
  const pageSize = clampPageSize(rawPageSize);
  const takes = Math.min(TAKES_MAX, Math.max(TAKES_MIN, Math.round(takesCount)));

  // What is typed shows at once; the search goes out once typing pauses.
  const [text, setText] = useState(query);
  const typed = useRef(false);
  useEffect(() => {
    if (!typed.current) return;
    const timer = setTimeout(() => {
      typed.current = false;
      if (text.trim() !== query.trim()) {
        setQuery(text);
        setPageNum(1);
      }
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, query, setQuery, setPageNum]);

  const list = useAudioTaskList({ pageNum, pageSize, query, starred: starredOnly, status });
  const { hasNextPage, hasPreviousPage, isPlaceholderData, error } = list;
  const filtered = Boolean(query.trim()) || starredOnly || status !== undefined;

  // Deletes wait out the Undo moment here; their rows are hidden meanwhile.
  const [pendingDeletes, setPendingDeletes] = useState<PendingDelete[]>([]);
  const hiddenIds = useMemo(
    () => new Set(pendingDeletes.flatMap((entry) => entry.tasks.map((task) => task.taskId))),
    [pendingDeletes],
  );
  const tasks = useMemo(
    () => (hiddenIds.size ? list.tasks.filter((task) => !hiddenIds.has(task.taskId)) : list.tasks),
    [list.tasks, hiddenIds],
  );
  const blocks = useMemo(() => toBlocks(tasks), [tasks]);

  const [announcement, setAnnouncement] = useState('');
  const [actionError, setActionError] = useState<unknown>();
  const fail = useCallback((reason: unknown) => setActionError(reason), []);
  const remove = useDeleteAudioTask({ mutation: { onError: fail } });
  const update = useUpdateAudioTask({ mutation: { onError: fail } });
  const create = useCreateAudioTask({ mutation: { onError: fail } });
  const makeTakes = useCreateAudioTakes({ mutation: { onError: fail } });

  // One player for the row that plays (a page of 500 rows does not hold 500 audio elements).
  const [playingId, setPlayingId] = useState<string>();
  const playingTask = useMemo(() => tasks.find((task) => task.taskId === playingId), [tasks, playingId]);
  const player = useAudioPlayer({
    audio: playingTask?.audios[0],
    createdAt: playingTask?.createdAt,
    prompt: playingTask?.request?.prompt,
    messages,
  });
  const startWhenLoaded = useRef(false);
  useEffect(() => {
    if (!startWhenLoaded.current || !playingTask) return;
    startWhenLoaded.current = false;
    player.play();
  });
  const progress = player.duration > 0 ? Math.min(1, player.currentTime / player.duration) : 0;
  const playback = useMemo<RowPlayback | undefined>(
    () => (playingId ? { playing: player.state === 'playing', progress } : undefined),
    [playingId, player.state, progress],
  );

  const grid = useRef<HTMLDivElement>(null);
  const navigation = useGridNavigation(grid);
  const focusAfter = useRef<string>(undefined);
  useEffect(() => {
    const selector = focusAfter.current;
    if (!selector) return;
    focusAfter.current = undefined;
    navigation.focusCell(selector);
  });

  // Everything the rows may call, in one object that never changes: a row re-renders for its task only.
  const current = {
    tasks,
    playingId,
    player,
    onSelect,
    onReuse,
    onCreated,
    onDelete,
    takes,
    undoMs,
    m,
    blocks,
  };
  const latest = useRef(current);
  latest.current = current;
  const titleOf = useCallback(
    (task: AudioTask) => task.title || task.request?.prompt || latest.current.m.untitledTask(task.taskId),
    [],
  );

  const commitDelete = useCallback(
    (entry: PendingDelete) => {
      clearTimeout(entry.timer);
      setPendingDeletes((all) => all.filter((other) => other.key !== entry.key));
      for (const task of entry.tasks) remove.mutate(task.taskId);
      latest.current.onDelete?.(entry.tasks);
    },
    // `remove.mutate` is stable.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const pendingRef = useRef(pendingDeletes);
  pendingRef.current = pendingDeletes;
  // Leaving the page does not lose a delete: whatever waits is sent.
  useEffect(() => () => pendingRef.current.forEach((entry) => commitDelete(entry)), [commitDelete]);

  const actions = useMemo<RowActions>(() => {
    const rowActions: RowActions = {
      play(task) {
        const { playingId: current, player: shared } = latest.current;
        if (current === task.taskId) return shared.toggle();
        startWhenLoaded.current = true;
        setPlayingId(task.taskId);
      },
      star(task) {
        setActionError(undefined);
        update.mutate({ taskId: task.taskId, starred: !task.starred });
      },
      rename(task, title) {
        setActionError(undefined);
        update.mutate(
          { taskId: task.taskId, title },
          { onSuccess: (saved) => setAnnouncement(latest.current.m.listRenamed(titleOf(saved))) },
        );
      },
      remove(gone) {
        setActionError(undefined);
        const { tasks: shown } = latest.current;
        const ids = new Set(gone.map((task) => task.taskId));
        // Focus moves on to the next row left (else the one before), on the same kind of cell.
        const index = shown.findIndex((task) => ids.has(task.taskId));
        const after = shown.slice(index).find((task) => !ids.has(task.taskId));
        const before = shown
          .slice(0, index)
          .reverse()
          .find((task) => !ids.has(task.taskId));
        const next = after ?? before;
        focusAfter.current = next
          ? `[data-task-id="${CSS.escape(next.taskId)}"] [data-part="${latest.current.onSelect ? 'select' : 'title'}"]`
          : undefined;
        if (ids.has(latest.current.playingId ?? '')) {
          latest.current.player.pause();
          setPlayingId(undefined);
        }
        const title = gone.length === 1 ? titleOf(gone[0]!) : String(gone.length);
        const entry: PendingDelete = {
          key: Date.now() + Math.random(),
          tasks: [...gone],
          title,
          timer: setTimeout(() => commitDelete(entry), latest.current.undoMs),
        };
        setPendingDeletes((all) => [...all, entry]);
      },
      regenerate(task) {
        if (!task.request) return;
        setActionError(undefined);
        create.mutate(task.request, { onSuccess: (made) => latest.current.onCreated?.([made]) });
      },
      takes(task) {
        if (!task.request) return;
        setActionError(undefined);
        makeTakes.mutate(
          { ...task.request, count: latest.current.takes },
          { onSuccess: (made) => latest.current.onCreated?.(made) },
        );
      },
    };
    if (onSelect) rowActions.select = (task) => latest.current.onSelect?.(task);
    if (onReuse) rowActions.reuse = (task) => latest.current.onReuse?.(task);
    return rowActions;
    // Mutations' `mutate` functions are stable; the rest is read through `latest`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [Boolean(onSelect), Boolean(onReuse), commitDelete, titleOf]);

  const undo = (entry: PendingDelete) => {
    clearTimeout(entry.timer);
    setPendingDeletes((all) => all.filter((other) => other.key !== entry.key));
    setAnnouncement('');
    focusAfter.current = `[data-task-id="${CSS.escape(entry.tasks[0]!.taskId)}"] [data-part="${onSelect ? 'select' : 'title'}"]`;
  };
  const lastDelete = pendingDeletes.at(-1);

  const showError = Boolean(error) && !list.data;
  const state: AudioTaskListState = showError
    ? 'error'
    : list.isPending
      ? 'loading'
      : tasks.length === 0
        ? filtered
          ? 'no-match'
          : 'empty'
        : 'ready';

  // A search's result is announced once it is in (the rows themselves are not a live region).
  const searchKey = `${query.trim()}|${starredOnly}`;
  const announcedSearch = useRef(searchKey);
  useEffect(() => {
    if (announcedSearch.current === searchKey || isPlaceholderData || list.isPending) return;
    announcedSearch.current = searchKey;
    setAnnouncement(tasks.length === 0 ? m.listNoMatch : m.listMatches(tasks.length, locale));
  }, [searchKey, isPlaceholderData, list.isPending, tasks.length, m, locale]);

  // The previous page stays on screen while the next one loads. `isFetching` is read only then: a read
  // property re-renders the list at the start and end of every background poll.
  const busy = (isPlaceholderData && list.isFetching) || list.isPending;
  const sizes = [...new Set([...pageSizeOptions, pageSize])].sort((a, b) => a - b);
  // A page size the app fixed (controlled, with no way to report a change) is not offered as a choice.
  const canChoosePageSize = pageSizeProp === undefined || onPageSizeChange !== undefined;
  const Heading = `h${headingLevel}` as const;
  const headingId = `${id}-heading`;

  const renderRow = (task: AudioTask, take?: number) => {
    const selected = task.taskId === selectedTaskId;
    const inGroup = take !== undefined;
    return [
      <TaskRow
        key={task.taskId}
        task={task}
        // In a group the prompt is the group's heading: each take goes by its number.
        title={inGroup && !task.title ? m.listTake(take, locale) : titleOf(task)}
        selected={selected}
        inGroup={inGroup}
        playback={task.taskId === playingId ? playback : undefined}
        takesCount={takes}
        actions={actions}
        m={m}
        locale={locale}
      />,
      selected && expandSelected && task.status === 'succeed' && task.audios.length > 0 && (
        <div key={`${task.taskId}-player`} {...part('player-row')} role="row">
          <div {...part('player-cell')} role="gridcell" aria-colspan={COLUMNS}>
            {/* The row already says what the sound is; the player's own title is hidden by the CSS. */}
            <AudioResultPlayer {...part('player')} task={task} messages={messages} announce={false} />
          </div>
        </div>
      ),
    ];
  };

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

      <div {...part('toolbar')}>
        <input
          {...part('search')}
          type="search"
          aria-label={m.listSearch}
          placeholder={m.listSearch}
          value={text}
          maxLength={200}
          onChange={(event) => {
            typed.current = true;
            setText(event.target.value);
          }}
        />
        <button
          {...part('starred-filter')}
          type="button"
          aria-pressed={starredOnly}
          onClick={() => {
            setStarredOnly(!starredOnly);
            setPageNum(1);
          }}
        >
          <span aria-hidden>{starredOnly ? '★ ' : '☆ '}</span>
          {m.listStarredFilter}
        </button>
        {/* Always there (a live region must exist before it speaks); empty, it takes no room. */}
        <div {...part('undo')} role="status" data-state={lastDelete ? 'open' : 'closed'}>
          {lastDelete && (
            <>
              <span {...part('undo-text')}>{m.listDeleted(lastDelete.title)}</span>
              <button {...part('undo-button')} type="button" onClick={() => undo(lastDelete)}>
                {m.listUndo}
              </button>
            </>
          )}
        </div>
      </div>

      <div {...part('live')} role="status" style={visuallyHidden}>
        {announcement}
      </div>
      {actionError !== undefined && (
        <p {...part('action-error')} role="alert">
          {m.listActionFailed} {m.errorText(actionError)}
        </p>
      )}

      {state === 'loading' && (
        <>
          <p role="status" style={visuallyHidden}>
            {m.listLoading}
          </p>
          <div {...part('skeleton')} aria-hidden>
            {Array.from({ length: Math.min(pageSize, 5) }, (_, index) => (
              <div key={index} {...part('skeleton-row')} />
            ))}
          </div>
        </>
      )}
      {state === 'empty' && <p {...part('empty')}>{m.listEmpty}</p>}
      {state === 'no-match' && (
        <div {...part('no-match')}>
          <p {...part('no-match-text')}>{m.listNoMatch}</p>
          <button
            {...part('clear-filters')}
            type="button"
            onClick={() => {
              setText('');
              setQuery('');
              setStarredOnly(false);
              setPageNum(1);
            }}
          >
            {m.listClearFilters}
          </button>
        </div>
      )}
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
        <div
          {...part('grid')}
          ref={grid}
          role="grid"
          // The cells hold the one tab stop; -1 only makes the grid a valid focus target for scripts.
          tabIndex={-1}
          aria-labelledby={headingId}
          data-placeholder={isPlaceholderData ? '' : undefined}
          onKeyDown={navigation.onKeyDown}
          onFocus={navigation.onFocus}
        >
          <div role="row" {...part('columns')} style={visuallyHidden}>
            {[
              m.listColumns.play,
              m.listColumns.title,
              m.listColumns.details,
              m.listColumns.star,
              m.listColumns.actions,
            ].map((name) => (
              <span key={name} role="columnheader">
                {name}
              </span>
            ))}
          </div>
          {blocks.map((block) =>
            block.kind === 'task' ? (
              renderRow(block.task)
            ) : (
              <div
                key={block.groupId}
                {...part('group')}
                role="rowgroup"
                aria-label={m.listTakesGroup(block.tasks.length, titleOf(block.tasks[0]!), locale)}
              >
                <div {...part('group-header')} role="row" data-row="">
                  <div {...part('group-cell')} role="gridcell" aria-colspan={COLUMNS}>
                    <span {...part('group-title')}>
                      {m.listTakesGroup(block.tasks.length, titleOf(block.tasks[0]!), locale)}
                    </span>
                    <button
                      {...part('discard-others')}
                      type="button"
                      data-cell=""
                      tabIndex={-1}
                      aria-disabled={!block.tasks.some((task) => task.starred) || undefined}
                      onClick={() => {
                        const others = block.tasks.filter((task) => !task.starred);
                        if (others.length < block.tasks.length) actions.remove(others);
                      }}
                    >
                      {m.listDiscardOthers}
                    </button>
                  </div>
                </div>
                <div {...part('takes')} role="presentation">
                  {/* Numbered in the order they were made (the page is newest first). */}
                  {block.tasks.map((task, index) => renderRow(task, block.tasks.length - index))}
                </div>
              </div>
            ),
          )}
        </div>
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
