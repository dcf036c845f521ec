import { setupWorker } from 'msw/browser';

/** msw's service worker for the browser project: tests add a fresh mock backend's handlers. */
export const worker = setupWorker();
