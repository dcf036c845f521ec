/**
 * A react-query result with a hook's own fields, without reading it: react-query re-renders a component
 * only for the properties it read, and a spread reads them all (so every fetch start and end would
 * re-render every watcher). Each property is a getter over the result; each field a getter over a thunk.
 */
export function withFields<TResult extends object, TFields extends object>(
  result: TResult,
  fields: { [K in keyof TFields]: () => TFields[K] },
): TResult & TFields {
  const out = {} as TResult & TFields;
  const define = (key: PropertyKey, get: () => unknown) =>
    Object.defineProperty(out, key, { enumerable: true, configurable: true, get });
  for (const key in result) define(key, () => result[key]);
  for (const key in fields) define(key, fields[key]);
  return out;
}

/**
 * `fn` computing again only when one of its arguments changed (by identity): a derived field read lazily
 * keeps its identity across renders while its inputs do, as `useMemo` would, without reading the inputs
 * during render.
 */
export function memoizeLast<TArgs extends unknown[], TResult>(
  fn: (...args: TArgs) => TResult,
): (...args: TArgs) => TResult {
  let last: { args: TArgs; result: TResult } | undefined;
  return (...args) => {
    if (last && args.every((arg, index) => Object.is(arg, last!.args[index]))) return last.result;
    last = { args, result: fn(...args) };
    return last.result;
  };
}
