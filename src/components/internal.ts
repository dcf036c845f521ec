/**
 * Small pieces the form, the list and the studio share. Not exported from the package.
 */
import { useCallback, useMemo, useState, type CSSProperties, type SyntheticEvent } from 'react';
import { sharedMessages, type KlingAudioMessages } from '../api/messages';
import { useKlingAudioContext } from '../hooks/KlingAudioProvider';

/**
 * A component's strings and the locale: the shared and the component's own defaults, then the
 * provider's `messages`, then the component's `overrides`. Like `useKlingMessages`, but with only this
 * component's defaults, so an app ships the strings of the components it renders and no others.
 */
export function useComponentMessages<T extends object>(
  defaults: T,
  overrides?: Partial<KlingAudioMessages>,
): { m: typeof sharedMessages & T; locale: string | undefined } {
  const { messages, locale } = useKlingAudioContext();
  const m = useMemo(
    () => ({ ...sharedMessages, ...defaults, ...messages, ...overrides }) as typeof sharedMessages & T,
    [defaults, messages, overrides],
  );
  return { m, locale };
}

/**
 * `data-part="seek-slider"` and the class `rka-Component-seekSlider`: the two handles STYLE.md promises
 * on every styled part.
 */
export function partOf(component: string) {
  return (name: string, className?: string) => ({
    'data-part': name,
    className:
      `rka-${component}-${name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}` +
      (className ? ` ${className}` : ''),
  });
}

/** `a b` without empty parts, for `className` and `aria-describedby`. */
export const join = (...parts: (string | false | null | undefined)[]): string | undefined =>
  parts.filter(Boolean).join(' ') || undefined;

/**
 * Text for screen readers only. Inline rather than a class: it must stay hidden even in an app that has
 * not loaded `styles.css` yet, and it is behaviour, not look.
 */
export const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0, 0, 0, 0)',
  whiteSpace: 'nowrap',
  border: 0,
};

/**
 * Runs the caller's handler, then ours unless the caller called `event.preventDefault()` (the same rule as
 * `useAudioPlayer`'s prop getters).
 */
export function compose<E extends SyntheticEvent>(
  theirs: ((event: E) => void) | undefined,
  ours: (event: E) => void,
): (event: E) => void {
  return (event) => {
    theirs?.(event);
    if (!event.defaultPrevented) ours(event);
  };
}

/**
 * A value that is controlled when `value` is given and uncontrolled otherwise; `onChange` is called
 * either way.
 */
export function useControllableState<T>(
  value: T | undefined,
  defaultValue: T | (() => T),
  onChange?: (next: T) => void,
): [T, (next: T) => void] {
  const [own, setOwn] = useState(defaultValue);
  const controlled = value !== undefined;
  const set = useCallback(
    (next: T) => {
      if (!controlled) setOwn(next);
      onChange?.(next);
    },
    [controlled, onChange],
  );
  return [controlled ? value : own, set];
}
