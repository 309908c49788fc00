import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

/** Opens `url` in the desktop's browser when there is a desktop; says so when there is none. */
export function openBrowser(url: string, log: Logger, insist: boolean): void {
  const hasDesktop =
    process.platform === 'darwin' ||
    process.platform === 'win32' ||
    !!process.env.DISPLAY ||
    !!process.env.WAYLAND_DISPLAY;
  if (!hasDesktop) {
    if (insist) log.warn({ url }, 'no desktop session to open a browser in; open the dashboard URL yourself');
    return;
  }
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', (err) =>
    log.warn({ err, url }, 'could not open a browser; open the dashboard URL yourself'),
  );
  child.unref();
}
