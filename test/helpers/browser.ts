// Headless Chromium (Debian's package, installed by tools/setup-native.sh) driven by playwright-core,
// for tests that check what a generated HTML page really shows.
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';

export const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

/** Launches Chromium with the flags this closed network needs (no background connections). */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error('Chromium is not installed (tools/setup-native.sh installs it)');
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface RenderedPage {
  images: { total: number; broken: number; minWidth: number };
  charts: { count: number; drawn: number };
  /** Text of elements with the class, in document order. */
  texts: (selector: string) => Promise<string[]>;
  width: number;
  height: number;
  /** Requests the page made for anything but itself and data: URIs (must be none: self-contained). */
  externalRequests: string[];
}

/** Opens a local HTML file, waits for it to settle, checks images and SVG charts, saves a screenshot. */
export async function renderPage(browser: Browser, file: string, screenshot: string): Promise<RenderedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const externalRequests: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith('data:') && url !== `file://${file}`) externalRequests.push(url);
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  const images = await page.$$eval('img', (els) => {
    const imgs = els as HTMLImageElement[];
    return {
      total: imgs.length,
      broken: imgs.filter((i) => !i.complete || i.naturalWidth === 0).length,
      minWidth: imgs.length ? Math.min(...imgs.map((i) => i.getBoundingClientRect().width)) : 0,
    };
  });
  const charts = await page.$$eval('svg.chart', (els) => ({
    count: els.length,
    drawn: els.filter(
      (e) => e.querySelectorAll('polyline, rect.bar').length > 0 && e.getBoundingClientRect().width > 100,
    ).length,
  }));
  const size = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  return {
    images,
    charts,
    texts: (selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent ?? '')),
    width: size.width,
    height: size.height,
    externalRequests,
  };
}
