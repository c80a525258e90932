/** Headless Chromium for benches: the Debian build, a closed network, WASM only unless asked. */
import { chromium, type Browser } from '@playwright/test';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(opts: { webgpu?: boolean; extraArgs?: string[] } = {}): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-dev-shm-usage',
    ...(opts.webgpu ? ['--enable-unsafe-webgpu'] : []),
    ...(opts.extraArgs ?? []),
  ];
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}
