// @vitest-environment node
/**
 * An echoing gateway in front of the vendor (issue 21, item 13): however many tokens the proxy has signed,
 * the credentials it was configured with never reach a browser.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKlingAudioProxy } from '../src/server';

const ACCESS_KEY = 'ak_redaction_access_key_42';
const SECRET_KEY = 'sk_redaction_SECRET_9a8b7c';

afterEach(() => vi.restoreAllMocks());

describe('redaction of an echoing upstream', () => {
  it('keeps the access and secret keys out of every answer after 20 token signings', async () => {
    // Each first attempt is refused as an expired token (1004), so every request signs a fresh one; the
    // clock moves a second per upstream call, so every token differs.
    let offset = 0;
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    let calls = 0;
    const handler = createKlingAudioProxy({
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      upstream: 'http://vendor.test',
      authorize: () => true,
      store: false,
      fetch: async (_input, init) => {
        offset += 1000;
        const authorization = new Headers(init?.headers).get('authorization') ?? '';
        const expired = calls++ % 2 === 0;
        // The gateway echoes what it was sent and what it knows.
        return Response.json(
          {
            code: expired ? 1004 : 0,
            message: `echo ${authorization} iss=${ACCESS_KEY} key=${SECRET_KEY}`,
            request_id: 'r1',
            data: expired
              ? null
              : { task_id: '786412301234', task_status: 'submitted', created_at: 1, updated_at: 1 },
          },
          { status: expired ? 401 : 200 },
        );
      },
    });
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await handler(
        new Request('http://app.test/api/kling/v1/audio/text-to-audio/786412301234'),
      );
      expect(response.status).toBe(200);
      answers.push(await response.text());
    }
    expect(calls).toBe(20);
    for (const answer of answers) {
      expect(answer).not.toContain(ACCESS_KEY);
      expect(answer).not.toContain(SECRET_KEY);
      expect(JSON.parse(answer).message).toBe('echo Bearer [redacted] iss=[redacted] key=[redacted]');
    }
  });
});
