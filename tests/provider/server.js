#!/usr/bin/env node
// A real OpenID Provider (oidc-provider 8.x) configured like a OneLogin OIDC app of
// type "None (PKCE)", for mod_onelogin_oidc's integration tests and demo.
//
//   node tests/provider/server.js [--port N] [--cert FILE] [--key FILE] [--state-dir DIR]
//        [--client-id ID] [--redirect-uris A,B] [--post-logout-redirect-uris A,B]
//
// Every option also reads an environment variable: PORT, CERT, KEY, STATE_DIR, CLIENT_ID,
// REDIRECT_URIS, POST_LOGOUT_REDIRECT_URIS. PORT 0 picks a free port. Listens on
// 127.0.0.1 only, prints "READY <issuer>" once listening. The issuer is
// https://127.0.0.1:PORT/oidc/2, like OneLogin's https://<subdomain>.onelogin.com/oidc/2.
//
// Test control (JSON, see README.md beside this file):
//   POST /__test/mode {"mode": "..."}   POST /__test/reset   GET /__test/log
//   POST /__test/clients {"redirect_uris": [...], "post_logout_redirect_uris": [...]}
//   POST /__test/lifetimes {"id_token": SECONDS, "access_token": SECONDS, "age": SECONDS}
//   GET  /__test/state

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

import { CLAIMS, findAccount } from './accounts.js';
import {
    TestAdapter, addClientUris, clientMetadata, listClients, registerClient,
} from './adapter.js';
import {
    ENDPOINT_MODES, GRACE_MODE, REFRESH_MODES, TOKEN_MODES, buildKeys, faultMiddleware,
    makeRsaKey,
} from './faults.js';
import { handleInteraction } from './interaction.js';
import { RequestLog } from './log.js';

const MOUNT = '/oidc/2';
const CONFIDENTIAL_CLIENT = {
    id: 'olo-test-confidential-client',
    secret: 'olo-test-client-secret',
};

function options() {
    const { values } = parseArgs({
        options: {
            port: { type: 'string' },
            cert: { type: 'string' },
            key: { type: 'string' },
            'state-dir': { type: 'string' },
            'client-id': { type: 'string' },
            'redirect-uris': { type: 'string' },
            'post-logout-redirect-uris': { type: 'string' },
        },
    });
    const env = process.env;
    const list = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
    const opts = {
        port: Number(values.port ?? env.PORT ?? 9443),
        cert: values.cert ?? env.CERT,
        key: values.key ?? env.KEY,
        stateDir: values['state-dir'] ?? env.STATE_DIR,
        clientId: values['client-id'] ?? env.CLIENT_ID ?? 'olo-test-client',
        redirectUris: list(values['redirect-uris'] ?? env.REDIRECT_URIS),
        postLogoutRedirectUris: list(values['post-logout-redirect-uris']
                                     ?? env.POST_LOGOUT_REDIRECT_URIS),
    };
    if (!opts.cert || !opts.key) {
        throw new Error('need --cert and --key (or CERT and KEY): the provider speaks https only');
    }
    return opts;
}

/* The RS256 signing key, kept in the state dir so a restart keeps the same kid. */
async function loadSigningKey(stateDir) {
    const file = stateDir && path.join(stateDir, 'signing-key.json');
    if (file && existsSync(file)) {
        return JSON.parse(readFileSync(file, 'utf8'));
    }
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const key = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
    if (file) {
        mkdirSync(stateDir, { recursive: true });
        writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
    }
    return key;
}

function registerClients(opts) {
    const common = {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        application_type: 'web',
        id_token_signed_response_alg: 'RS256',
        scope: 'openid email profile groups offline_access',
    };
    // OneLogin "None (PKCE)": a public client, no secret at the token endpoint.
    registerClient({
        ...common,
        client_id: opts.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: opts.redirectUris,
        post_logout_redirect_uris: opts.postLogoutRedirectUris,
    });
    // OneLogin "Basic": for OneLoginClientSecret (client_secret_basic) tests.
    registerClient({
        ...common,
        client_id: CONFIDENTIAL_CLIENT.id,
        client_secret: CONFIDENTIAL_CLIENT.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: opts.redirectUris,
        post_logout_redirect_uris: opts.postLogoutRedirectUris,
    });
}

/*
 * OneLogin shows no consent screen for an app the admin assigned: every scope and claim
 * the client asks for is granted when the user is known.
 */
async function loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== oidc.account.accountId) {
        grant = new oidc.provider.Grant({
            accountId: oidc.account.accountId,
            clientId: oidc.client.clientId,
        });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
}

function page(title, body) {
    return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>${body}</body></html>
`;
}

function htmlEscape(s) {
    return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DEFAULT_LIFETIMES = { id_token: 3600, access_token: 3600 };
/* How far back issued ID tokens are dated (faults.js ageIdToken); 0: as issued. */
const DEFAULT_AGE = 0;

function providerConfig(signingKey, clientId, state) {
    return {
        adapter: TestAdapter,
        findAccount,
        claims: CLAIMS,
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
        // OneLogin puts email, name and groups into the ID token itself.
        conformIdTokenClaims: false,
        jwks: { keys: [signingKey] },
        cookies: { keys: [randomBytes(32).toString('hex')] },
        pkce: { methods: ['S256'], required: () => true },
        // Always hand out a refresh token when the client may use one (OneLogin does so
        // for apps with refresh tokens enabled), whether or not offline_access was asked.
        issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
        loadExistingGrant,
        ttl: {
            // POST /__test/lifetimes shortens these, for the refresh tests.
            AccessToken: () => state.lifetimes.access_token,
            AuthorizationCode: 60,
            IdToken: () => state.lifetimes.id_token,
            RefreshToken: 24 * 3600,
            Interaction: 600,
            Session: 8 * 3600,
            Grant: 8 * 3600,
        },
        routes: {
            authorization: '/auth',
            token: '/token',
            jwks: '/certs',
            end_session: '/logout',
            userinfo: '/me',
            revocation: '/token/revocation',
            introspection: '/token/introspection',
        },
        interactions: {
            url: async (ctx, interaction) => `${MOUNT}/interaction/${interaction.uid}`,
        },
        features: {
            devInteractions: { enabled: false },
            revocation: { enabled: true },
            userinfo: { enabled: true },
            rpInitiatedLogout: {
                enabled: true,
                // OneLogin signs out without asking: the page submits itself (the
                // button stays for browsers without JavaScript).
                logoutSource: async (ctx, form) => {
                    ctx.body = page('Sign out', `${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<script>
var f = document.getElementById('op.logoutForm'), i = document.createElement('input');
i.type = 'hidden'; i.name = 'logout'; i.value = 'yes'; f.appendChild(i); f.submit();
</script>`);
                },
                postLogoutSuccessSource: async (ctx) => {
                    const back = ctx.oidc.client?.postLogoutRedirectUris?.[0]
                        ?? clientMetadata(clientId)?.post_logout_redirect_uris?.[0];
                    const link = back
                        ? `<p><a href="${htmlEscape(back)}">Back to the application</a></p>` : '';
                    ctx.body = page('Signed out',
                        `<p>You are signed out of the test provider.</p>${link}`);
                },
            },
        },
        clientBasedCORS: () => false,
        renderError: async (ctx, out) => {
            ctx.type = 'html';
            ctx.body = page('Provider error', Object.entries(out)
                .map(([k, v]) => `<p><b>${htmlEscape(k)}</b>: ${htmlEscape(v)}</p>`).join(''));
        },
    };
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
            size += c.length;
            if (size > 65536) {
                reject(new Error('body too large'));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}

function sendJson(res, status, obj) {
    const body = `${JSON.stringify(obj, null, 1)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
}

/* The misbehaviour switchboard; see README.md for the modes. */
async function handleControl(req, res, url, ctl) {
    const { state, keys, log, issuer, opts } = ctl;
    const route = `${req.method} ${url.pathname}`;
    const input = req.method === 'POST' ? await readBody(req) : '';
    let json = {};
    try {
        json = input ? JSON.parse(input) : {};
    } catch {
        return sendJson(res, 400, { error: 'body is not JSON' });
    }
    switch (route) {
    case 'POST /__test/mode': {
        const mode = json.mode || 'normal';
        if (mode !== 'normal' && !TOKEN_MODES.has(mode) && !ENDPOINT_MODES.has(mode)
            && !REFRESH_MODES.has(mode) && mode !== GRACE_MODE) {
            return sendJson(res, 400, { error: `unknown mode ${mode}`,
                modes: [...TOKEN_MODES, ...ENDPOINT_MODES, ...REFRESH_MODES, GRACE_MODE] });
        }
        Object.assign(state, { mode, delay: json.delay, secret: json.secret,
            keepOld: !!json.keep_old, claims: json.claims, raw: json.raw, grace: json.grace,
            graceAnswers: new Map() });
        if (mode === 'rotate') {
            state.rotated = await makeRsaKey(`rotated-${randomBytes(6).toString('hex')}`);
        }
        return sendJson(res, 200, describe(state, keys, issuer));
    }
    case 'POST /__test/reset':
        Object.assign(state, { mode: 'normal', delay: undefined, secret: undefined,
            keepOld: false, rotated: undefined, claims: undefined, raw: undefined,
            grace: undefined, graceAnswers: new Map(),
            lifetimes: { ...DEFAULT_LIFETIMES, age: DEFAULT_AGE } });
        log.clear();
        return sendJson(res, 200, describe(state, keys, issuer));
    case 'GET /__test/log':
        return sendJson(res, 200, log.list(url.searchParams.get('endpoint') || 'token'));
    case 'POST /__test/clients': {
        const clientId = json.client_id || opts.clientId;
        const ids = json.client_id ? [clientId] : [clientId, CONFIDENTIAL_CLIENT.id];
        for (const id of ids) {
            addClientUris(id, 'redirect_uris', json.redirect_uris || []);
            addClientUris(id, 'post_logout_redirect_uris', json.post_logout_redirect_uris || []);
        }
        return sendJson(res, 200, { clients: listClients() });
    }
    case 'POST /__test/lifetimes': {
        for (const name of Object.keys(DEFAULT_LIFETIMES)) {
            if (json[name] !== undefined) {
                const seconds = Number(json[name]);
                if (!Number.isInteger(seconds) || seconds < 1) {
                    return sendJson(res, 400, { error: `${name} must be a whole number >= 1` });
                }
                state.lifetimes[name] = seconds;
            }
        }
        if (json.age !== undefined) {
            const age = Number(json.age);
            if (!Number.isInteger(age)) {
                return sendJson(res, 400, { error: 'age must be a whole number of seconds' });
            }
            state.lifetimes.age = age;
        }
        return sendJson(res, 200, describe(state, keys, issuer));
    }
    case 'GET /__test/state':
        return sendJson(res, 200, { ...describe(state, keys, issuer), clients: listClients() });
    default:
        return sendJson(res, 404, { error: `no control route ${route}` });
    }
}

function describe(state, keys, issuer) {
    return {
        issuer,
        mode: state.mode,
        kid: keys.real.publicJwk.kid,
        rotated_kid: state.rotated?.publicJwk.kid,
        lifetimes: state.lifetimes,
        confidential_client: CONFIDENTIAL_CLIENT,
    };
}

async function main() {
    const opts = options();
    const signingKey = await loadSigningKey(opts.stateDir);
    const keys = await buildKeys(signingKey);
    const state = { mode: 'normal', lifetimes: { ...DEFAULT_LIFETIMES, age: DEFAULT_AGE } };
    const log = new RequestLog();
    registerClients(opts);

    const server = https.createServer({
        cert: readFileSync(opts.cert),
        key: readFileSync(opts.key),
    });
    await new Promise((resolve) => { server.listen(opts.port, '127.0.0.1', resolve); });
    const issuer = `https://127.0.0.1:${server.address().port}${MOUNT}`;

    const provider = new Provider(issuer, providerConfig(signingKey, opts.clientId, state));
    provider.use(faultMiddleware({ state, keys, log }));
    const callback = provider.callback();
    const ctl = { state, keys, log, issuer, opts };

    server.on('request', (req, res) => {
        const url = new URL(req.url, 'https://127.0.0.1');
        const fail = (err) => {
            console.error(`provider: ${req.method} ${url.pathname}: ${err.stack || err}`);
            if (!res.headersSent) {
                sendJson(res, 500, { error: 'server_error' });
            } else {
                res.destroy();
            }
        };
        if (url.pathname.startsWith('/__test/')) {
            handleControl(req, res, url, ctl).catch(fail);
        } else if (url.pathname.startsWith(`${MOUNT}/interaction/`)) {
            handleInteraction(req, res, url, { provider, mount: MOUNT, readBody, page, htmlEscape })
                .catch(fail);
        } else if (url.pathname === MOUNT || url.pathname.startsWith(`${MOUNT}/`)) {
            // oidc-provider finds its mount path from originalUrl minus url.
            req.originalUrl = req.url;
            req.url = req.url.slice(MOUNT.length);
            if (!req.url.startsWith('/')) {
                req.url = `/${req.url}`;
            }
            callback(req, res);
        } else {
            sendJson(res, 404, { error: 'not found', issuer });
        }
    });

    const stop = () => { server.close(); process.exit(0); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdout.write(`READY ${issuer}\n`);
}

main().catch((err) => {
    console.error(`provider: ${err.stack || err}`);
    process.exit(1);
});
