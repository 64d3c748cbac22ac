// signup.mjs - a subscriber's visit to the sign-up page in a real
// browser (Debian's Chromium, driven by playwright-core): the policy
// page, a wrong password, sign in, register the server, see it active,
// see a refused registration explain itself, delete the entry.  A
// screenshot of each page goes to SHOTS.  Prints TAP lines; exit 1 on
// any failure.
import { chromium } from 'playwright-core';

const url = process.env.URL;
const shots = process.env.SHOTS;
let n = 0, failed = 0;
function check(name, cond) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) failed = 1;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 30000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  // playwright-core gives every launch a fresh temporary profile itself
  // (it refuses --user-data-dir here).
});
try {
  // The test pretends to come from the server's address through the
  // trusted proxy, as a subscriber behind the ISP's reverse proxy would.
  const ctx = await browser.newContext({
    viewport: { width: 1100, height: 900 },
    extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.10' },
    javaScriptEnabled: false,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);

  let resp = await page.goto(`${url}/policy`);
  check('policy page loads', resp.status() === 200);
  check('policy says what is blocked', (await page.textContent('main')).includes('Outgoing connections to TCP port 25'));
  check('CSP header is set', (resp.headers()['content-security-policy'] || '').includes("default-src 'none'"));
  await page.screenshot({ path: `${shots}/1-policy.png`, fullPage: true });

  await page.goto(`${url}/`);
  check('the login form has labels', await page.getByLabel('Mail account').count() === 1 &&
    await page.getByLabel('Password').count() === 1);
  await page.screenshot({ path: `${shots}/2-signin.png`, fullPage: true });
  await page.getByLabel('Mail account').fill('alice@test.example');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  check('a wrong password is refused', (await page.getByRole('alert').textContent()).includes('wrong account or password'));

  await page.getByLabel('Mail account').fill('alice@test.example');
  await page.getByLabel('Password').fill('alice-pw');
  await page.getByRole('button', { name: 'Sign in' }).click();
  check('signed in', (await page.textContent('main')).includes('Signed in as alice@test.example'));
  check('the address is filled in from the connection', await page.getByLabel(/Server address/).inputValue() === '192.0.2.10');
  await page.screenshot({ path: `${shots}/3-signed-in.png`, fullPage: true });

  await page.getByLabel(/Host name/).fill('mx.alice.example');
  await page.getByLabel(/Mail domain/).fill('alice.example');
  await page.getByRole('button', { name: 'Register' }).click();
  check('registered', (await page.getByRole('status').textContent()).includes('Registered'));
  const row = page.locator('table.entries tr', { hasText: '192.0.2.10' });
  check('the entry is shown active', (await row.textContent()).includes('active'));
  await page.screenshot({ path: `${shots}/4-registered.png`, fullPage: true });

  await page.getByLabel(/Server address/).fill('192.0.2.11');
  await page.getByRole('button', { name: 'Register' }).click();
  const alert = await page.getByRole('alert').textContent();
  check('a refused registration says which check failed', alert.includes('Not registered') &&
    alert.includes('you connected from 192.0.2.10, not from 192.0.2.11'));
  await page.screenshot({ path: `${shots}/5-refused.png`, fullPage: true });

  await page.getByRole('button', { name: 'Delete 192.0.2.10' }).click();
  check('deleted', (await page.getByRole('status').textContent()).includes('Deleted'));
  check('the entry is gone', await page.locator('table.entries tr', { hasText: '192.0.2.10' }).count() === 0);
  await page.screenshot({ path: `${shots}/6-deleted.png`, fullPage: true });

  await page.goto(`${url}/policy`);
  await page.getByLabel('Your message').fill('The page was clear, thanks.');
  await page.getByRole('button', { name: 'Send feedback' }).click();
  check('feedback sent', (await page.getByRole('status').textContent()).includes('Thank you'));
  await ctx.close();
} catch (e) {
  check(`no browser error (${e.message.split('\n')[0]})`, false);
} finally {
  await browser.close();
}
console.log(`1..${n}`);
process.exit(failed);
