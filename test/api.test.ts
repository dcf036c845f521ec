// @vitest-environment node
/**
 * The public surface: every entry's API report (scripts/api-report.mjs) is checked in under etc/, and the
 * main entry exports what the README documents and nothing else.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReports, entries } from '../scripts/api-report.mjs';

let reports: Record<string, string>;
beforeAll(() => {
  reports = buildReports();
}, 120_000);

/** The exported names of a report: its unindented lines inside the code block. */
const namesOf = (report: string) =>
  report
    .slice(report.indexOf('```ts\n') + 6, report.lastIndexOf('```'))
    .split('\n')
    .filter((line) => /^(const|function|class|interface|type) /.test(line))
    .map((line) => line.split(/[\s:(<=]+/)[1]!);

const mainReport = () => reports[entries().find((entry) => entry.subpath === '.')!.report]!;

describe('public surface', () => {
  it('has an up-to-date API report for every entry (npm run api:report writes them)', () => {
    expect(entries().map((entry) => entry.subpath)).toEqual(['.', './server', './mocks']);
    for (const [path, text] of Object.entries(reports)) {
      expect(text, `${path} is out of date: run npm run api:report and commit it`).toBe(
        readFileSync(path, 'utf8'),
      );
    }
  });

  it('exports from the main entry only what the README documents', () => {
    const readme = readFileSync('README.md', 'utf8');
    const names = [...new Set(namesOf(mainReport()))];
    expect(names.length).toBeGreaterThan(40);
    // Named in code: a fenced block or an inline code span.
    const code = [...readme.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map(([span]) => span).join('\n');
    const documented = (name: string) => new RegExp(`\\b${name}\\b`).test(code);
    expect(names.filter((name) => !documented(name))).toEqual([]);
  });

  it('keeps server- and mock-only names out of the main entry', () => {
    const names = namesOf(mainReport());
    const serverOnly = names.filter(
      (name) =>
        /^(wire|Wire|parseWire|isWire)/.test(name) ||
        [
          'KLING_ERROR_CODES',
          'TOKEN_RETRY_CODES',
          'KlingErrorInfo',
          'getErrorInfo',
          'listAudioTasksParamsSchema',
          'TASK_ID_PATTERN',
          'readServerSentEvents',
          'followTaskEvents',
          'TASK_EVENTS_PATH',
          'toAudioTask',
          'toWireCreateRequest',
          'withoutNulls',
        ].includes(name),
    );
    expect(serverOnly).toEqual([]);
  });
});
