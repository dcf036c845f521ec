import type { MockKlingBackend } from '../src/mocks';
import { server } from './server';

export type Connect = (backend: MockKlingBackend) => typeof fetch;

/** The two ways an app reaches the mock backend: msw intercepting the global fetch, and `.fetch` directly. */
export const transports: { name: string; connect: Connect }[] = [
  {
    name: 'msw',
    connect: (backend) => {
      server.use(...backend.handlers);
      return (input, init) => globalThis.fetch(input, init);
    },
  },
  {
    name: '.fetch',
    connect: (backend) => (input, init) => backend.fetch(new Request(input, init)),
  },
];
