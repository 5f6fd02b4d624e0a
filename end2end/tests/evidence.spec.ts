import { test, expect, Page } from '@playwright/test';
import { hydrated, setItem, signIn } from './helpers';

// Runs after accounts.spec.ts on the same instance: the release captain exists.
test.describe.configure({ mode: 'serial' });

const captain = { email: 'rc@example.org', password: 'captain password 1' };

// A 24×16 PNG.
const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAABgAAAAQCAIAAACDRijCAAAClUlEQVR4nBXSERuGMBiF4XEyicfJJB4nk3icTOKHk0k8TibxOJnE42TS7/j63h9wX+c65xVC0Al6gRIMglFgBJNgFjjBIlgFCDbBLoiCQ3AKsuAS3IIqeASvQAhJJ+klSjJIRomRTJJZ4iSLZJUg2SS7JEoOySnJkktyS6rkkbzygxSdolcoxaAYFUYxKWaFUyyKVYFiU+yKqDgUpyIrLsWtqIpH8aoP0nSaXqM0g2bUGM2kmTVOs2hWDZpNs2ui5tCcmqy5NLemah7Nqz/I0Bl6gzIMhtFgDJNhNjjDYlgNGDbDboiGw3AasuEy3IZqeAyv+SBLZ+ktyjJYRouxTJbZ4iyLZbVg2Sy7JVoOy2nJlstyW6rlsbz2gxydo3cox+AYHcYxOWaHcyyO1YFjc+yO6DgcpyM7LsftqI7H8boP8nSe3qM8g2f0GM/kmT3Os3hWD57Ns3ui5/Ccnuy5PLeneh7P6z8IOuj/yzDA+C+ECeZ/DhZY+d8GO0Q44IQMF9xQ4YH3ezUR6AJ9QAWGwBgwgSkwB1xgCawBAltgD8TAETgDOXAF7kANPIE3fFCki/QRFRkiY8REpsgccZElssZ/ki2yR2LkiJyRHLkid6RGnsgbPyjRJfqESgyJMWESU2JOuMSSWBMktsSeiIkjcSZy4krciZp4Em/6oEyX6TMqM2TGjMlMmTnjMktmzf9KtsyeiZkjc2Zy5srcmZp5Mm/+oEJX6AuqMBTGgilMhbngCkthLVDYCnshFo7CWciFq3AXauEpvOWDKl2lr6jKUBkrpjJV5oqrLJW1/rfZKnslVo7KWcmVq3JXauWpvPWDGl2jb6jG0BgbpjE15oZrLI21QWNr7I3YOBpnIzeuxt2ojafxNn6Q3Alf0XLvqwAAAABJRU5ErkJggg==';

let releaseId = 0;

test('a PNG dropped on a checklist item shows as a thumbnail and opens in a lightbox', async ({ page }) => {
  await signIn(page, captain);
  const start = Date.now() + 30 * 3600_000;
  const created = await page.request.post('/api/v1/releases', {
    data: {
      title: 'Evidence release', version: '5.0.0', environment: 'prod',
      window_start: new Date(start).toISOString(), window_end: new Date(start + 3600_000).toISOString(),
      release_captain: captain.email,
    },
  });
  expect(created.status()).toBe(201);
  releaseId = (await created.json()).id;
  await page.goto(`/releases/${releaseId}`);
  await hydrated(page);

  const item = page.locator('li[data-key="staging_smoke_tests"]');
  const zone = item.locator('form.dropzone');
  const dt = await page.evaluateHandle((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'smoke-run.png', { type: 'image/png' }));
    return dt;
  }, PNG_B64);
  await zone.dispatchEvent('dragover', { dataTransfer: dt });
  await zone.dispatchEvent('drop', { dataTransfer: dt });

  // When the file has landed the page loads again and shows it in the gallery.
  await expect(item.locator('.gallery li[data-evidence]')).toHaveCount(1);
  await hydrated(page);
  const thumb = item.locator('.gallery img');
  await expect(thumb).toBeVisible();
  await thumb.scrollIntoViewIfNeeded(); // thumbnails load lazily
  await expect.poll(() => thumb.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(24);

  await item.locator('.gallery a.thumb').click();
  const box = page.locator('.lightbox');
  await expect(box.locator('img')).toBeVisible();
  await expect(box).toContainText('smoke-run.png');
  await page.keyboard.press('Escape');
  await expect(box).toHaveCount(0);

  // The item requires evidence: with the file attached it can pass.
  await setItem(page, 'staging_smoke_tests', 'passed');
});

test('a log opens in the viewer, searches with highlights and jumps to errors', async ({ page }) => {
  await signIn(page, captain);
  const lines: string[] = [];
  for (let i = 1; i <= 3000; i++) {
    const level = i === 2500 ? 'ERROR' : i % 700 === 0 ? 'WARN' : 'INFO';
    const what = i === 1234 ? 'upstream timeout after 30s' : 'request handled';
    lines.push(`2026-11-28T10:00:${String(i % 60).padStart(2, '0')}Z ${level} ${what} #${i}`);
  }
  const up = await page.request.post(
    `/api/v1/releases/${releaseId}/evidence?filename=deploy.log&section=staging_gate`,
    { data: lines.join('\n') + '\n', headers: { 'content-type': 'text/plain' } },
  );
  expect(up.status()).toBe(201);
  await page.goto(`/releases/${releaseId}`);
  await hydrated(page);
  await page.locator('[data-section="staging_gate"]').getByRole('link', { name: 'deploy.log' }).click();

  const viewer = page.getByTestId('log-viewer');
  await expect(viewer).toBeVisible();
  await expect(viewer).toContainText('3000 lines');
  await expect(viewer.locator('tr#L1')).toBeVisible();
  await expect(viewer.locator('tr#L600')).toHaveCount(0);

  await viewer.getByLabel('Search the log').fill('TIMEOUT');
  await viewer.getByRole('button', { name: 'Search' }).click();
  const hits = page.getByTestId('log-hits');
  await expect(hits).toContainText('1 matches');
  await expect(hits.locator('mark')).toHaveText('timeout');

  await page.getByTestId('next-error').click();
  await expect(page).toHaveURL(/#L2500$/);
  const errorLine = page.locator('tr#L2500');
  await expect(errorLine).toBeVisible();
  await expect(errorLine).toHaveClass(/error/);
});
