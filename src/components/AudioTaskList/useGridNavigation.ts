import { useLayoutEffect, type KeyboardEvent, type RefObject, type FocusEvent } from 'react';

// `useLayoutEffect` warns in a server render; there is nothing to focus there anyway.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? () => {} : useLayoutEffect;

const ROW = '[role="row"][data-row]';
const CELL = '[data-cell]';
const PAGE = 10;

/**
 * The keyboard of a WAI-ARIA APG data grid: the grid is one tab stop (the cell last focused, else the
 * first), arrows move between cells (↑/↓ keep the column), Home/End go to the ends of the row, Ctrl+Home/End
 * to the first and last row, Page Up/Down ten rows. Cells are the `[data-cell]` elements of each
 * `[role=row][data-row]`, rendered with `tabIndex={-1}`; the roving `tabIndex=0` is set on the element
 * itself, so a row that re-renders on its own never takes it back. Keys from anything else (a rename
 * field, an open menu, a player) are left alone.
 */
export function useGridNavigation(grid: RefObject<HTMLElement | null>) {
  const rows = () => [...(grid.current?.querySelectorAll<HTMLElement>(ROW) ?? [])];
  const cellsOf = (row: Element) => [...row.querySelectorAll<HTMLElement>(CELL)];

  const activate = (cell: HTMLElement, focus: boolean) => {
    grid.current
      ?.querySelectorAll<HTMLElement>(`${CELL}[tabindex="0"]`)
      .forEach((other) => other !== cell && (other.tabIndex = -1));
    cell.tabIndex = 0;
    if (focus) cell.focus();
  };

  // Exactly one tab stop after every render: the one that was, if it is still there, else the first cell.
  useIsomorphicLayoutEffect(() => {
    const root = grid.current;
    if (!root) return;
    const current = root.querySelector<HTMLElement>(`${CELL}[tabindex="0"]`);
    if (current) return;
    const first = root.querySelector<HTMLElement>(`${ROW} ${CELL}`);
    if (first) activate(first, false);
  });

  const onFocus = (event: FocusEvent<HTMLElement>) => {
    const cell = (event.target as HTMLElement).closest<HTMLElement>(CELL);
    if (cell && grid.current?.contains(cell)) activate(cell, false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    const target = event.target as HTMLElement;
    if (!target.matches(CELL) || event.altKey || event.metaKey) return;
    const all = rows();
    const row = target.closest(ROW);
    const rowIndex = row ? all.indexOf(row as HTMLElement) : -1;
    if (rowIndex < 0) return;
    const cells = cellsOf(row!);
    const col = cells.indexOf(target);
    const at = (r: number, c: number) => {
      const next = all[Math.max(0, Math.min(all.length - 1, r))]!;
      const nextCells = cellsOf(next);
      return nextCells[Math.max(0, Math.min(nextCells.length - 1, c))];
    };
    let next: HTMLElement | undefined;
    switch (event.key) {
      case 'ArrowDown':
        next = at(rowIndex + 1, col);
        break;
      case 'ArrowUp':
        next = at(rowIndex - 1, col);
        break;
      case 'ArrowRight':
        next = cells[Math.min(cells.length - 1, col + 1)];
        break;
      case 'ArrowLeft':
        next = cells[Math.max(0, col - 1)];
        break;
      case 'PageDown':
        next = at(rowIndex + PAGE, col);
        break;
      case 'PageUp':
        next = at(rowIndex - PAGE, col);
        break;
      case 'Home':
        next = event.ctrlKey ? at(0, 0) : cells[0];
        break;
      case 'End':
        next = event.ctrlKey ? at(all.length - 1, Infinity) : cells.at(-1);
        break;
      default:
        return;
    }
    event.preventDefault();
    if (next) activate(next, true);
  };

  /** Moves the tab stop (and focus) to the cell `selector` finds, e.g. after a row went away. */
  const focusCell = (selector: string) => {
    const cell = grid.current?.querySelector<HTMLElement>(selector);
    if (cell) activate(cell, true);
    return Boolean(cell);
  };

  return { onKeyDown, onFocus, focusCell };
}
