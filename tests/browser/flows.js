#!/usr/bin/env node
// Real-browser scenarios for mod_onelogin_oidc: Debian's Chromium driven by playwright-core
// through the whole OpenID Connect login, the way a user's browser goes through it.
//
//   node tests/browser/flows.js SCENARIO 'JSON'
//
// JSON: {"app": "http://127.0.0.1:PORT" (httpd), "provider": "https://127.0.0.1:PORT"
//        (the provider's origin), "shots": "DIR" (screenshots NN-step.png go there), ...}
// plus what the scenario needs (see SCENARIOS at the end). Prints one JSON line:
//   {"ok": true, "result": {...}, "screenshots": [...], "requests": [...]}
// or, exit status 1, {"ok": false, "error": "...", "url": "...", "screenshots": [...]}
// (a screenshot NN-failure.png of each open page is taken first).
// tests/integration/test_browser.py runs it and asserts on the result.

import { main, newContext } from './harness.js';

const USER = { login: 'alice@example.com', password: 'alice-password' };
const XHR_HEADERS = {
    // What a page's script sends: it wants data, so the module must answer 401, not redirect.
    'X-Requested-With': 'XMLHttpRequest',
    // Accepting HTML too, so that X-Requested-With alone is what makes it a script.
    Accept: 'text/html, application/json, */*',
};

// ---------------------------------------------------------------------------------------
// The browser and what it does

function appUrl(env, pathAndQuery) {
    return new URL(pathAndQuery, env.app).href;
}

function isProviderInteraction(url, env) {
    return url.origin === env.provider && url.pathname.includes('/interaction/');
}

/*
 * After a navigation to a protected page `target`: wait until the browser is back on it,
 * signing in at the provider's form and accepting a consent page on the way when they
 * show up (the provider skips the form while its own session lasts). Returns whether the
 * login form was shown. `onForm(page)` runs while the form is displayed.
 */
async function passProvider(page, env, run, target, onForm = null) {
    const done = (url) => url.href === target;
    await page.waitForURL((url) => done(url) || isProviderInteraction(url, env));
    let formShown = false;
    for (let round = 0; !done(new URL(page.url())); round += 1) {
        if (round === 3) {
            throw new Error(`still at the provider after ${round} pages: ${page.url()}`);
        }
        const here = page.url();
        if (await page.locator('#login-form').count() > 0) {
            formShown = true;
            await run.shots.take(page, 'provider-login-form');
            if (onForm) {
                await onForm(page);
            }
            await submitLoginForm(page);
        } else {
            await acceptConsent(page, run);
        }
        // Either back on the page asked for, or another provider page (consent, an error).
        await page.waitForURL((url) => done(url)
            || (isProviderInteraction(url, env) && url.href !== here));
    }
    return formShown;
}

async function submitLoginForm(page) {
    const form = page.locator('#login-form');
    await form.locator('input[name="login"]').fill(USER.login);
    await form.locator('input[name="password"]').fill(USER.password);
    await form.locator('button[type="submit"]').click();
}

/* The test provider grants consent itself (as OneLogin does for assigned apps); a provider
   that asks gets its form's submit button pressed. */
async function acceptConsent(page, run) {
    await run.shots.take(page, 'provider-consent');
    await page.locator('form [type="submit"]').first().click();
}

/* What the OpenMetadata stand-in's page says about the identity it verified. */
async function shownIdentity(page) {
    const text = async (selector) => {
        const node = page.locator(selector);
        return await node.count() > 0 ? (await node.first().innerText()).trim() : null;
    };
    return {
        url: page.url(),
        title: await page.title(),
        user: await text('#user'),
        email: await text('#email'),
        tokenStatus: await text('#token-status'),
        text: (await page.locator('body').innerText()).slice(0, 3000),
    };
}

/*
 * The cookies the browser holds for the app, as Chromium stored them. Asked over CDP rather
 * than with context.cookies(): Playwright reports a cookie without a SameSite attribute as
 * "Lax", which would hide a missing attribute; CDP leaves sameSite out then (null here).
 */
async function appCookies(page, env) {
    const cdp = await page.context().newCDPSession(page);
    try {
        const { cookies } = await cdp.send('Network.getCookies', { urls: [env.app] });
        return cookies.map((c) => ({
            name: c.name,
            domain: c.domain,
            path: c.path,
            httpOnly: c.httpOnly,
            secure: c.secure,
            sameSite: c.sameSite ?? null,
            session: c.session,
        }));
    } finally {
        await cdp.detach();
    }
}

/* A protected page opened in a fresh tab, up to the provider's login form (not filled). */
async function openUpToLoginForm(context, env, run, pathAndQuery, step) {
    const page = await context.newPage();
    await page.goto(appUrl(env, pathAndQuery));
    await page.locator('#login-form').waitFor();
    await run.shots.take(page, step);
    return page;
}

/* Opens a protected page and logs in; returns the page, back on it. */
async function loginAt(context, env, run, pathAndQuery, onForm = null) {
    const page = await context.newPage();
    const target = appUrl(env, pathAndQuery);
    await page.goto(target);
    const formShown = await passProvider(page, env, run, target, onForm);
    await run.shots.take(page, 'logged-in');
    return { page, target, formShown };
}

/* fetch() from the page's own script; the response as the script sees it. */
function fetchFromPage(page, url, headers) {
    return page.evaluate(async ({ url: where, headers: sent }) => {
        try {
            const response = await fetch(where, { headers: sent, credentials: 'same-origin' });
            const body = await response.text();
            return {
                status: response.status,
                redirected: response.redirected,
                url: response.url,
                type: response.type,
                contentType: response.headers.get('content-type'),
                wwwAuthenticate: response.headers.get('www-authenticate'),
                body,
            };
        } catch (err) {
            return { error: String(err) };
        }
    }, { url, headers });
}

/* Puts a fetch's outcome on the page, so that the screenshot shows it. */
function showOnPage(page, label, outcome) {
    return page.evaluate(({ label: title, outcome: shown }) => {
        const pre = document.createElement('pre');
        pre.textContent = `${title}\n${JSON.stringify(shown, null, 1)}`;
        pre.style.cssText = 'border:2px solid #333;padding:0.5em;white-space:pre-wrap';
        document.body.appendChild(pre);
    }, { label, outcome });
}

// ---------------------------------------------------------------------------------------
// Scenarios: each returns what test_browser.py asserts on

/* Scenario "login" {path}: protected page -> provider's form -> back on it, identity shown. */
async function scenarioLogin(env, run) {
    const context = await newContext(run);
    const { page, formShown } = await loginAt(context, env, run, env.path);
    return {
        formShown,
        landed: await shownIdentity(page),
        cookies: await appCookies(page, env),
    };
}

/*
 * Scenario "two-tabs" {pathA, pathB}: tab 1 stops at the provider's form; tab 2 logs in
 * meanwhile; then tab 1 finishes its own login. Each must land on its own page.
 */
async function scenarioTwoTabs(env, run) {
    const context = await newContext(run);
    const targetA = appUrl(env, env.pathA);
    const targetB = appUrl(env, env.pathB);
    const tab1 = await openUpToLoginForm(context, env, run, env.pathA, 'tab1-at-login-form');
    const tab2 = await openUpToLoginForm(context, env, run, env.pathB, 'tab2-at-login-form');
    const stateCookiesMidLogin = (await appCookies(tab1, env))
        .filter((c) => c.name.startsWith('olo_state_')).map((c) => c.name);

    const tab2FormShown = await passProvider(tab2, env, run, targetB);
    await run.shots.take(tab2, 'tab2-logged-in');
    // Tab 1's form was shown before tab 2 signed in: the user fills it in as well (the
    // provider now has a session, which this login joins).
    await tab1.bringToFront();
    const tab1FormShown = await passProvider(tab1, env, run, targetA);
    await run.shots.take(tab1, 'tab1-logged-in');
    return {
        stateCookiesMidLogin,
        tab1: { formShown: tab1FormShown, ...await shownIdentity(tab1) },
        tab2: { formShown: tab2FormShown, ...await shownIdentity(tab2) },
        cookies: await appCookies(tab1, env),
    };
}

/*
 * Scenario "expiry" {path, maxAge}: log in; reload at once (no provider hop); wait past
 * OneLoginSessionMaxAge; reload: through the provider and back on the same page.
 */
async function scenarioExpiry(env, run) {
    const context = await newContext(run);
    const { page, target } = await loginAt(context, env, run, env.path);
    // The session began before this point, so it ends before loggedInAt + maxAge.
    const loggedInAt = Date.now();

    let mark = run.traffic.mark();
    await page.reload();
    await page.waitForURL(target);
    const reloadWhileValid = { requests: run.traffic.since(mark), ...await shownIdentity(page) };
    await run.shots.take(page, 'reloaded-while-valid');

    // The expiry is a point in time, nothing to wait for but the clock: half a second past
    // the latest moment the session can end.
    const waitMs = Math.max(0, loggedInAt + env.maxAge * 1000 + 500 - Date.now());
    await new Promise((resolve) => { setTimeout(resolve, waitMs); });

    mark = run.traffic.mark();
    await page.reload();
    const formShown = await passProvider(page, env, run, target);
    await run.shots.take(page, 'reloaded-after-expiry');
    const reloadAfterExpiry = {
        formShown, requests: run.traffic.since(mark), ...await shownIdentity(page),
    };
    return { waitedMs: waitMs, reloadWhileValid, reloadAfterExpiry };
}

/*
 * The provider's end-session page confirms itself by script, as OneLogin asks nothing. With
 * JavaScript off it waits for the user: its "Yes, sign me out" button is pressed then.
 */
async function passProviderLogout(page, run, postLogoutUrl, scriptEnabled) {
    if (!scriptEnabled) {
        const confirm = page.locator('button[name="logout"]');
        await confirm.waitFor();
        await run.shots.take(page, 'provider-sign-out-page');
        await confirm.click();
    }
    // The provider comes back with the logout request's `state` in the query.
    await page.waitForURL((url) => `${url.origin}${url.pathname}` === postLogoutUrl);
}

/* The fetches from the post-logout page's script, with and without X-Requested-With. */
async function fetchesAfterLogout(page, env, run) {
    const apiUrl = appUrl(env, env.apiPath);
    let mark = run.traffic.mark();
    const xhr = await fetchFromPage(page, apiUrl, XHR_HEADERS);
    const xhrRequests = run.traffic.since(mark);
    await showOnPage(page, `fetch ${env.apiPath} with X-Requested-With`, xhr);
    await run.shots.take(page, 'xhr-401');

    // The control: a fetch that looks like a navigation is redirected by the module, and the
    // browser follows to the provider (where CORS stops it): such requests would be seen.
    mark = run.traffic.mark();
    const plain = await fetchFromPage(page, apiUrl, { Accept: XHR_HEADERS.Accept });
    const plainRequests = run.traffic.since(mark);
    await showOnPage(page, `fetch ${env.apiPath} without X-Requested-With`, plain);
    await run.shots.take(page, 'fetch-without-xhr-header');
    return { xhr, xhrRequests, plain, plainRequests };
}

/*
 * Scenario "logout" {path, postLogoutPath, apiPath, script}: log in, open /logout, pass the
 * provider's sign-out, land on the post-logout page. With script (JavaScript on), fetch a
 * protected URL from that page (see fetchesAfterLogout). Last, the protected page again:
 * the provider's login form must show, as its own session ended too.
 */
async function scenarioLogout(env, run) {
    const scriptEnabled = env.script !== false;
    const context = await newContext(run, { javaScriptEnabled: scriptEnabled });
    const { page, target } = await loginAt(context, env, run, env.path);
    const cookiesLoggedIn = await appCookies(page, env);

    const mark = run.traffic.mark();
    await page.goto(appUrl(env, '/logout'), { waitUntil: 'commit' });
    await passProviderLogout(page, run, appUrl(env, env.postLogoutPath), scriptEnabled);
    const logoutRequests = run.traffic.since(mark);
    await run.shots.take(page, 'signed-out');
    const result = {
        cookiesLoggedIn,
        logoutRequests,
        landed: { url: page.url(), title: await page.title() },
        cookiesAfterLogout: await appCookies(page, env),
    };
    if (scriptEnabled) {
        Object.assign(result, await fetchesAfterLogout(page, env, run));
    }

    await page.goto(target);
    await page.locator('#login-form').waitFor();
    await run.shots.take(page, 'login-form-again');
    result.protectedPageAgain = page.url();
    return result;
}

/*
 * Scenario "cookies" {path}: log in, noting the app's cookies while the provider's form is
 * shown (the per-login state cookie lives then) and once back on the page.
 */
async function scenarioCookies(env, run) {
    const context = await newContext(run);
    let cookiesAtForm = null;
    const { page } = await loginAt(context, env, run, env.path, async (formPage) => {
        cookiesAtForm = await appCookies(formPage, env);
    });
    return {
        cookiesAtForm,
        cookiesAfterLogin: await appCookies(page, env),
        landed: await shownIdentity(page),
    };
}

const SCENARIOS = {
    login: scenarioLogin,
    'two-tabs': scenarioTwoTabs,
    expiry: scenarioExpiry,
    logout: scenarioLogout,
    cookies: scenarioCookies,
};

main('flows.js', SCENARIOS);
