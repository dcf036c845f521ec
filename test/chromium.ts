/**
 * The one Chromium every browser test uses (the vitest browser projects in vite.config.ts and the demo's
 * end-to-end test): Debian's build by default, or any Chrome/Chromium through CHROMIUM_PATH.
 */
import { existsSync } from 'node:fs';

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH to a Chrome/Chromium binary.`,
    );
  }
  return path;
}

/** Headless, root-safe, quiet on a closed network, and free to play audio without a user gesture. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];
