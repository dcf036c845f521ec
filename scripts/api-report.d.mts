export interface ApiEntry {
  /** The subpath in package.json `exports`, e.g. `.` or `./server`. */
  subpath: string;
  /** The source the entry is built from, e.g. `src/server/index.ts`. */
  source: string;
  /** Where its report is checked in, e.g. `etc/react-kling-audio-server.api.md`. */
  report: string;
  /** The import specifier, e.g. `react-kling-audio/server`. */
  name: string;
}
export function entries(): ApiEntry[];
/** The report of every entry: `{ [reportPath]: text }`. */
export function buildReports(): Record<string, string>;
