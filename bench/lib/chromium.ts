/** Headless Chromium for benches: the Debian build, a closed network, WASM only unless asked. */
import { chromium, type Browser, type BrowserContext } from '@playwright/test';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function argsOf(opts: { webgpu?: boolean; extraArgs?: string[] }): string[] {
  return [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-dev-shm-usage',
    ...(opts.webgpu ? ['--enable-unsafe-webgpu'] : []),
    ...(opts.extraArgs ?? []),
  ];
}

export async function launchChromium(opts: { webgpu?: boolean; extraArgs?: string[] } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: argsOf(opts) });
}

/**
 * Chromium with a profile on disk (`userDataDir`), as a user's browser has: the Cache API quota
 * of launchChromium's incognito-like contexts is held in memory and too small for a 436 MB
 * weights file (its put fails, so nothing derived from it is cached either).
 */
export async function launchPersistentChromium(
  userDataDir: string,
  opts: { webgpu?: boolean; extraArgs?: string[] } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: argsOf(opts),
  });
}
