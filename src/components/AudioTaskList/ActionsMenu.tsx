import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

/** One item of the actions menu: a button, or a link (a download). */
export interface MenuItem {
  key: string;
  label: string;
  onSelect?: () => void;
  href?: string;
  download?: string;
}

interface ActionsMenuProps {
  label: string;
  items: readonly MenuItem[];
  /** The button's content (an icon); its accessible name is `label`. */
  children: ReactNode;
  part: (name: string) => { 'data-part': string; className: string };
}

/**
 * A WAI-ARIA APG menu button: Enter, Space or a click opens the menu on its first item (↑ on the button
 * opens it on the last); ↑/↓ move and wrap, Home/End go to the ends, a letter goes to the next item that
 * starts with it, Escape closes and gives focus back to the button, Tab closes, choosing an item closes.
 * The button is a cell of the history grid (`data-cell`, `tabIndex` -1: the grid owns the tab stop).
 */
export function ActionsMenu({ label, items, children, part }: ActionsMenuProps) {
  const id = useId();
  const [open, setOpen] = useState<false | 'first' | 'last'>(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const itemsOf = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];

  useEffect(() => {
    if (!open) return;
    const all = itemsOf();
    (open === 'last' ? all.at(-1) : all[0])?.focus();
  }, [open]);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  const onMenuKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const all = itemsOf();
    const index = all.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => all[(i + all.length) % all.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        go(index + 1);
        break;
      case 'ArrowUp':
        go(index - 1);
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(all.length - 1);
        break;
      case 'Escape':
        close(true);
        break;
      case 'Tab':
        setOpen(false);
        return;
      default: {
        if (event.key.length !== 1 || event.ctrlKey || event.metaKey) return;
        const letter = event.key.toLowerCase();
        const order = [...all.slice(index + 1), ...all.slice(0, index + 1)];
        order.find((item) => item.textContent?.trim().toLowerCase().startsWith(letter))?.focus();
      }
    }
    // The grid around must not move on these keys.
    event.preventDefault();
    event.stopPropagation();
  };

  return (
    <div {...part('menu-root')}>
      <button
        {...part('menu-button')}
        ref={button}
        type="button"
        data-cell=""
        tabIndex={-1}
        id={`${id}-button`}
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={Boolean(open)}
        aria-controls={open ? `${id}-menu` : undefined}
        onClick={() => setOpen((now) => (now ? false : 'first'))}
        onKeyDown={(event) => {
          if (event.key === 'ArrowUp' && event.shiftKey) {
            event.preventDefault();
            setOpen('last');
          }
        }}
      >
        {children}
      </button>
      {open && (
        <div
          {...part('menu')}
          ref={menu}
          role="menu"
          tabIndex={-1}
          id={`${id}-menu`}
          aria-labelledby={`${id}-button`}
          onKeyDown={onMenuKeyDown}
          onBlur={(event) => {
            // Focus left the menu (a click elsewhere): close without taking focus back.
            const next = event.relatedTarget as Node | null;
            if (!next || (!menu.current?.contains(next) && next !== button.current)) setOpen(false);
          }}
        >
          {items.map((item) =>
            item.href ? (
              <a
                key={item.key}
                {...part('menu-item')}
                role="menuitem"
                tabIndex={-1}
                href={item.href}
                download={item.download}
                onClick={() => close(true)}
              >
                {item.label}
              </a>
            ) : (
              <button
                key={item.key}
                {...part('menu-item')}
                type="button"
                role="menuitem"
                tabIndex={-1}
                onClick={() => {
                  close(true);
                  item.onSelect?.();
                }}
              >
                {item.label}
              </button>
            ),
          )}
        </div>
      )}
    </div>
  );
}
