/**
 * The web UI in a real browser (Debian's chromium, driven by playwright-core) against a real
 * center, agent and KMS: log in, create an encrypted VM, power it on and off, look at hosts and
 * the audit chain, log out. Chromium trusts exactly center's certificate (pinned by its SPKI hash).
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { needPeers } from '../support/peers.js';
import { ADMIN_PASSWORD, startTestStack, type TestStack } from '../center/harness.js';
import { enrollHost } from '../center/ops-helpers.js';

const CHROMIUM = '/usr/bin/chromium';

async function spkiHash(certFile: string): Promise<string> {
  const cert = new X509Certificate(await readFile(certFile));
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

describe('web UI in chromium', () => {
  let s: TestStack | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    s = await startTestStack();
    await enrollHost(s);
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('logs in, creates an encrypted VM, powers it on and off, shows hosts and audit, logs out', async (t) => {
    if (!needPeers(t, CHROMIUM) || !s) return;
    const center = s.center;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        `--ignore-certificate-errors-spki-list=${await spkiHash(join(center.dir, 'center', 'pki', 'server.pem'))}`,
      ],
    });
    page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));

    const res = await page.goto(`${center.running.url}/`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);

    // A wrong password is refused with a message, and the login form stays.
    await page.fill('#login-form input[name=user]', 'admin');
    await page.fill('#login-form input[name=password]', 'not-the-password');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#status.error');
    assert.match(await page.textContent('#status') ?? '', /login failed/);

    await page.fill('#login-form input[name=user]', 'admin');
    await page.fill('#login-form input[name=password]', ADMIN_PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
    assert.match((await page.textContent('#whoami')) ?? '', /admin/);
    assert.equal(await page.evaluate('sessionStorage.length > 0'), true);

    // Create an encrypted VM through the form (the built-in policy is preselected).
    await page.waitForSelector('#create-form select[name=host] option[value="host-1"]', { state: 'attached' });
    assert.equal(await page.inputValue('#create-form select[name=policy]'), 'VM Encryption Policy');
    await page.fill('#create-form input[name=name]', 'ui-vm');
    await page.fill('#create-form input[name=disk]', '8M');
    await page.click('#create-form button[type=submit]');
    const row = page.locator('#vms-table tr[data-vm="ui-vm"]');
    await row.waitFor({ timeout: 60_000 });
    const cells = async (): Promise<string[]> => row.locator('td').allTextContents();
    let c = await cells();
    assert.equal(c[1], 'host-1');
    assert.equal(c[4], 'yes');
    assert.equal(c[5], 'VM Encryption Policy');
    const vm = await s.admin.call<{ keyId: string }>('GET', '/api/v1/vms/ui-vm');
    assert.equal(c[6], vm.keyId);

    await row.locator('button', { hasText: 'Power on' }).click();
    const power = (state: string): Promise<void> =>
      row.locator('td:nth-child(3)').filter({ hasText: new RegExp(`^${state}$`) }).waitFor({ timeout: 60_000 });
    await power('poweredOn');
    await row.locator('button', { hasText: 'Power off' }).click();
    await power('poweredOff');
    c = await cells();
    assert.equal(c[3], 'unlocked');

    await page.click('nav button[data-view=hosts]');
    const host = page.locator('#hosts-table tbody tr', { hasText: 'host-1' });
    await host.waitFor();
    assert.equal((await host.locator('td').allTextContents())[0], 'host-1');

    await page.click('nav button[data-view=audit]');
    await page.waitForSelector('#audit-table tbody tr');
    await page.click('#audit-verify');
    await page.locator('#audit-result', { hasText: 'chain' }).waitFor();
    assert.match((await page.textContent('#audit-result')) ?? '', /chain intact/);

    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    assert.deepEqual(consoleErrors, []);
  });

  it('serves only its own files, with a CSP, and the API still answers JSON beside it', async () => {
    if (!s) return;
    const url = s.center.running.url;
    const ca = s.center.ca;
    const { request } = await import('node:https');
    const get = (path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request(`${url}${path}`, { method, ca }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    const js = await get('/ui/app.js');
    assert.equal(js.status, 200);
    assert.match(js.type, /javascript/);
    for (const p of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/nope.js', '/web/app.js']) {
      const r = await get(p);
      assert.equal(r.status, 404, p);
      assert.match(r.type, /json/);
    }
    const post = await get('/ui/app.js', 'POST');
    assert.equal(post.status, 400);
    assert.equal((JSON.parse(post.body) as { error: { code: string } }).error.code, 'method_not_allowed');
    assert.equal((await get('/api/v1/health')).status, 200);
  });
});
