// What every browser scenario script shares: Debian's Chromium started for loopback only, a
// record of every request, numbered screenshots, and the command line that runs one scenario
// and prints its outcome as one JSON line:
//   {"ok": true, "result": {...}, "screenshots": [...], "requests": [...]}
// or, exit status 1, {"ok": false, "error": "...", "url": [...], "screenshots": [...]}
// (a screenshot NN-failure.png of each open page is taken first).

import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const TIMEOUT_MS = 15000;

export function launchBrowser() {
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
            // The tests run as root, where Chromium's sandbox cannot start.
            '--no-sandbox',
            // Loopback only: any host name other than 127.0.0.1 fails to resolve.
            '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        ],
    });
}

/* Every request the browser makes, in order (redirect hops are requests of their own). */
export class Traffic {
    constructor() {
        this.requests = [];
    }

    watch(context) {
        context.on('request', (request) => this.requests.push({
            method: request.method(),
            url: request.url(),
            navigation: request.isNavigationRequest(),
            type: request.resourceType(),
        }));
    }

    mark() {
        return this.requests.length;
    }

    since(mark) {
        return this.requests.slice(mark);
    }
}

/* Numbered screenshots, one per step: DIR/01-step.png, DIR/02-step.png, ... */
export class Shots {
    constructor(dir) {
        this.dir = dir;
        this.files = [];
        mkdirSync(dir, { recursive: true });
    }

    async take(page, step) {
        const number = String(this.files.length + 1).padStart(2, '0');
        const file = path.join(this.dir, `${number}-${step}.png`);
        await page.screenshot({ path: file, fullPage: true });
        this.files.push(file);
    }
}

/* A fresh profile whose pages and requests the run records. The servers present certificates
 * of the suite's own CA, which a throwaway profile does not know (teaching it needs NSS tools);
 * ignoring certificate errors is enough for loopback servers the test started itself, and
 * httpd verifies the provider on its own. */
export async function newContext(run, options = {}) {
    const context = await run.browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 1000, height: 700 },
        ...options,
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    context.setDefaultNavigationTimeout(TIMEOUT_MS);
    run.traffic.watch(context);
    run.contexts.push(context);
    return context;
}

async function screenshotOpenPages(run) {
    for (const context of run.contexts) {
        for (const page of context.pages()) {
            await run.shots.take(page, 'failure').catch(() => {});
        }
    }
}

/* `node SCRIPT SCENARIO 'JSON'`: runs scenarios[SCENARIO](env, run) and prints the outcome. */
export async function runScenario(script, scenarios) {
    const [name, json] = process.argv.slice(2);
    const scenario = scenarios[name];
    if (!scenario || !json) {
        process.stderr.write(`usage: ${script} {${Object.keys(scenarios).join('|')}} JSON\n`);
        process.exit(2);
    }
    const env = JSON.parse(json);
    const run = { browser: await launchBrowser(), traffic: new Traffic(),
        shots: new Shots(env.shots), contexts: [] };
    let out;
    try {
        out = { ok: true, result: await scenario(env, run) };
    } catch (err) {
        await screenshotOpenPages(run);
        out = { ok: false, error: String(err.stack || err),
            url: run.contexts.flatMap((c) => c.pages().map((p) => p.url())) };
    } finally {
        await run.browser.close();
    }
    out.screenshots = run.shots.files;
    out.requests = run.traffic.requests;
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exitCode = out.ok ? 0 : 1;
}

export function main(script, scenarios) {
    runScenario(script, scenarios).catch((err) => {
        process.stdout.write(`${JSON.stringify({ ok: false, error: String(err.stack || err) })}\n`);
        process.exitCode = 1;
    });
}
