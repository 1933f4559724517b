#!/usr/bin/env node
// Debian's Chromium (playwright-core) through a login and a logout with Glewlwyd as the
// OpenID Provider (tests/integration/glewlwyd.py), on Glewlwyd's own login web app: its
// password form, its consent page, its "Continue" button and its end-session page.
//
//   node tests/browser/glewlwyd.js SCENARIO 'JSON'
//
// JSON: {"app": "http://127.0.0.1:PORT" (httpd), "provider": "https://127.0.0.1:PORT"
//        (Glewlwyd's origin), "shots": "DIR", "path": "/page?asked=for",
//        "username": ..., "password": ..., "scopes": ["email", "profile"] (ticked on the
//        consent page)}
// Prints one JSON line, as tests/browser/flows.js does:
//   {"ok": true, "result": {...}, "screenshots": [...], "requests": [...]}
// or, exit status 1, {"ok": false, "error": "...", "url": [...], "screenshots": [...]}.
// tests/integration/test_interop_glewlwyd.py runs it and asserts on the result.

import { main, newContext } from './harness.js';


function appUrl(env, pathAndQuery) {
    return new URL(pathAndQuery, env.app).href;
}

function atLoginPage(url, env) {
    return url.origin === env.provider && url.pathname === '/login.html';
}

/* The module's cookies as Chromium holds them for the app (values included: the logout
   scenario puts an old one back). */
async function moduleCookies(context, env) {
    return (await context.cookies(env.app)).filter((c) => c.name.startsWith('olo_'));
}

/*
 * After a navigation to the protected page `target`: on Glewlwyd's login page, sign in with
 * its password form when it shows, tick the scopes and press "Grant access" when its consent
 * page shows, then press "Continue" (Glewlwyd never continues by itself), until the browser
 * is back on target. Returns which of Glewlwyd's pages were shown.
 */
async function passGlewlwyd(page, env, run, target) {
    const done = (url) => url.href === target;
    await page.waitForURL((url) => done(url) || atLoginPage(url, env));
    const shown = { form: false, consent: false, continue: false };
    const form = page.locator('#passwordForm');
    const grant = page.getByRole('button', { name: 'Grant access' });
    const carryOn = page.locator('button[title="Continue to client application"]');
    for (let round = 0; !done(new URL(page.url())); round += 1) {
        if (round === 4) {
            throw new Error(`still at Glewlwyd after ${round} steps: ${page.url()}`);
        }
        // The page is a script: wait until it shows something to act on.
        await form.or(grant).or(carryOn).first().waitFor();
        if (await form.isVisible()) {
            shown.form = true;
            await run.shots.take(page, 'glewlwyd-login-form');
            await form.locator('#username').fill(env.username);
            await form.locator('#password').fill(env.password);
            await form.locator('#loginbut').click();
            await form.waitFor({ state: 'detached' });
        } else if (await grant.isVisible()) {
            shown.consent = true;
            for (const scope of env.scopes) {
                await page.locator(`#grant-${scope}`).check();
            }
            await run.shots.take(page, 'glewlwyd-consent');
            await grant.click();
            await grant.waitFor({ state: 'detached' });
        } else {
            shown.continue = true;
            await run.shots.take(page, 'glewlwyd-continue');
            await carryOn.click();
            await page.waitForURL(done);
        }
    }
    return shown;
}

async function loginAt(context, env, run, pathAndQuery) {
    const page = await context.newPage();
    const target = appUrl(env, pathAndQuery);
    await page.goto(target);
    const shown = await passGlewlwyd(page, env, run, target);
    await run.shots.take(page, 'logged-in');
    return { page, target, shown };
}

/* Scenario "login" {path}: protected page -> Glewlwyd's pages -> back on it. */
async function scenarioLogin(env, run) {
    const context = await newContext(run);
    const { page, shown } = await loginAt(context, env, run, env.path);
    return {
        shown,
        landed: { url: page.url(), title: await page.title(),
            text: (await page.locator('body').innerText()).slice(0, 3000) },
        cookies: (await moduleCookies(context, env)).map((c) => ({
            name: c.name, httpOnly: c.httpOnly, secure: c.secure, path: c.path })),
    };
}

/*
 * Scenario "logout" {path}: log in; open /logout; on Glewlwyd's end-session page press
 * "Logout"; Glewlwyd sends the browser back to the site (post_logout_redirect_uri, with the
 * state), whose "/" starts a new login: Glewlwyd's password form must show, its own session
 * being over too. Last, the session cookie from before the logout is put back and the page
 * asked for again: it must lead to the login form, not to the page.
 */
async function scenarioLogout(env, run) {
    const context = await newContext(run);
    const { page, target } = await loginAt(context, env, run, env.path);
    const before = await moduleCookies(context, env);

    let mark = run.traffic.mark();
    await page.goto(appUrl(env, '/logout'), { waitUntil: 'commit' });
    const endSession = page.getByRole('button', { name: 'Stay connected' });
    await endSession.waitFor();
    const endSessionPage = { url: page.url(), text: await page.locator('body').innerText() };
    await run.shots.take(page, 'glewlwyd-end-session');
    await page.locator('button.btn-danger', { hasText: 'Logout' }).first().click();
    await page.locator('#passwordForm').waitFor();
    await run.shots.take(page, 'glewlwyd-login-form-after-logout');
    const logoutRequests = run.traffic.since(mark);
    const after = await moduleCookies(context, env);

    // A copy of the old session cookie, as someone who took it before the logout has it.
    const session = before.find((c) => c.name === 'olo_session');
    await context.addCookies([session]);
    mark = run.traffic.mark();
    await page.goto(target);
    if (atLoginPage(new URL(page.url()), env)) {
        await page.locator('#passwordForm').waitFor();
    }
    await run.shots.take(page, 'old-cookie-replayed');
    const replay = { url: page.url(), requests: run.traffic.since(mark) };

    const names = (cookies) => cookies.map((c) => c.name).sort();
    return {
        cookiesLoggedIn: names(before),
        endSessionPage,
        logoutRequests,
        cookiesAfterLogout: names(after),
        replay,
    };
}

const SCENARIOS = { login: scenarioLogin, logout: scenarioLogout };

main('glewlwyd.js', SCENARIOS);
