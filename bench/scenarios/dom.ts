/**
 * A jsdom document for scenarios run in Node. Only the DOM is taken from jsdom: fetch, AbortController,
 * Request and timers stay Node's, so the library's requests behave as in a browser.
 */
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>', {
  url: 'http://localhost/',
  pretendToBeVisual: true,
});
const { window } = dom;
const globals = globalThis as unknown as Record<string, unknown>;
for (const name of [
  'window',
  'document',
  'navigator',
  'Node',
  'Element',
  'HTMLElement',
  'HTMLCanvasElement',
  'HTMLMediaElement',
  'HTMLAudioElement',
  'Text',
  'Comment',
  'DocumentFragment',
  'MutationObserver',
  'getComputedStyle',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'devicePixelRatio',
]) {
  globals[name] = (window as unknown as Record<string, unknown>)[name];
}
globals.IS_REACT_ACT_ENVIRONMENT = false;

// Players stay off screen (nothing fetched), and no layout exists to observe.
class Inert {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
globals.IntersectionObserver = Inert;
globals.ResizeObserver = Inert;
window.HTMLMediaElement.prototype.load = () => {};
window.HTMLMediaElement.prototype.pause = () => {};
window.HTMLMediaElement.prototype.play = () => Promise.resolve();
// jsdom's virtual console reports "Not implemented" for canvas; drawing is not what is measured.
window.HTMLCanvasElement.prototype.getContext = () => null;

let visibility: 'visible' | 'hidden' = 'visible';
Object.defineProperty(window.document, 'visibilityState', { configurable: true, get: () => visibility });
export function setVisibility(state: 'visible' | 'hidden') {
  visibility = state;
  window.document.dispatchEvent(new window.Event('visibilitychange'));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prints the scenario's answer as the last line and ends the process (pollers hold timers). */
export function answer(value: unknown) {
  console.log(JSON.stringify(value));
  process.exit(0);
}
