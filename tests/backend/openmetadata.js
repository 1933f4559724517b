#!/usr/bin/env node
// Stand-in for OpenMetadata's server, as far as a front door in httpd can tell: its API
// accepts a request only with an `Authorization: Bearer <JWT>` that verifies against the
// configured JWKS URLs (OneLogin's /oidc/2/certs and its own bot-token JWKS), checks `exp`
// with no leeway, and takes the user from the `email` (else `preferred_username`, else
// `sub`) claim, as OpenMetadata's JwtFilter does.
//
//   node tests/backend/openmetadata.js --cert FILE --key FILE [--ca FILE]
//        [--http-port N] [--https-port N] [--public-key-urls URL,URL]
//
// Environment twins: HTTP_PORT, HTTPS_PORT (0 = any free port, the default), CERT, KEY,
// CA_CERT, PUBLIC_KEY_URLS. Two listeners on 127.0.0.1 share one state: plain http for the
// application (httpd proxies to it) and https for the same routes, so that the module can
// fetch /api/v1/system/config/jwks over verified TLS. The https JWKS URL of this process is
// always trusted, like the "/api/v1/system/config/jwks" entry OpenMetadata's docs require in
// AUTHENTICATION_PUBLIC_KEYS. Prints "READY http=PORT https=PORT" once both listen.
//
// Routes as OpenMetadata has them:
//   GET /api/v1/system/version, /api/v1/system/config/jwks, /api/v1/system/config/auth,
//       /api/v1/system/health                      no token needed (OpenMetadata's own list)
//   GET /healthcheck                               no token (OpenMetadata: admin port 8586)
//   GET /api/v1/users/loggedInUser                 {"name", "email", "isBot", ...}
//   any other /api/v1/...                          JSON echo of the verified identity
//   /api/v1/push/feed (websocket upgrade)          RFC 6455 echo, upgrade headers recorded
//   GET /api/v1/push/feed (no upgrade)             a socket.io "open" packet
//   anything else                                  the HTML page "OpenMetadata stand-in"
//                                                  with the identity the Bearer token proved
// An API request without a verified token gets 401 JSON.
//
// Test control (JSON; asked directly, never through httpd):
//   GET  /__om/requests   every request seen: method, path, websocket, authorization scheme,
//                         bearer (the token itself), verified, source, user, error, headers
//   POST /__om/reset      forgets them
//   POST /__om/bot-token  {"exp_seconds": 3600|null, "claims": {...}, "kid": "..."}:
//                         {"token": "..."}, signed with the bot key (iss open-metadata.org,
//                         sub ingestion-bot, email ingestion-bot@open-metadata.org, isBot);
//                         exp_seconds null: no exp; "claims" overrides or adds claims
//                         (a null value removes one)
//   GET  /__om/state      ports, trusted JWKS URLs, bot kid

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';

import {
    SignJWT, calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK,
    generateKeyPair, jwtVerify,
} from 'jose';

const BOT_ISSUER = 'open-metadata.org';
const JWKS_PATH = '/api/v1/system/config/jwks';
const FEED_PATH = '/api/v1/push/feed';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_LOG = 1000;
// OpenMetadata's JwtFilter lets these through without a token.
const OPEN_API = new Set([
    JWKS_PATH, '/api/v1/system/config/auth', '/api/v1/system/config/authorizer',
    '/api/v1/system/health', '/api/v1/system/version',
]);
// The claims OpenMetadata reads the user from, in order (jwtPrincipalClaims default).
const PRINCIPAL_CLAIMS = ['email', 'preferred_username', 'sub'];

function options() {
    const { values } = parseArgs({
        options: {
            'http-port': { type: 'string' },
            'https-port': { type: 'string' },
            cert: { type: 'string' },
            key: { type: 'string' },
            ca: { type: 'string' },
            'public-key-urls': { type: 'string' },
        },
    });
    const env = process.env;
    const list = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
    const opts = {
        httpPort: Number(values['http-port'] ?? env.HTTP_PORT ?? 0),
        httpsPort: Number(values['https-port'] ?? env.HTTPS_PORT ?? 0),
        cert: values.cert ?? env.CERT,
        key: values.key ?? env.KEY,
        ca: values.ca ?? env.CA_CERT,
        publicKeyUrls: list(values['public-key-urls'] ?? env.PUBLIC_KEY_URLS),
    };
    if (!opts.cert || !opts.key) {
        throw new Error('need --cert and --key (or CERT and KEY): the JWKS is served over https');
    }
    return opts;
}

/* The RS256 key OpenMetadata signs its bot tokens with (a new one per start). */
async function makeBotKey() {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = `om-bot-${(await calculateJwkThumbprint(jwk)).slice(0, 12)}`;
    return { privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

function epoch() {
    return Math.floor(Date.now() / 1000);
}

async function mintBotToken(botKey, { exp_seconds: expSeconds = 3600, claims = {}, kid } = {}) {
    const payload = {
        sub: 'ingestion-bot',
        email: 'ingestion-bot@open-metadata.org',
        isBot: true,
        tokenType: 'BOT',
        ...claims,
    };
    for (const [name, value] of Object.entries(payload)) {
        if (value === null) {
            delete payload[name];
        }
    }
    const jwt = new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: kid ?? botKey.publicJwk.kid })
        .setIssuedAt();
    if (!('iss' in claims)) {
        jwt.setIssuer(BOT_ISSUER);
    }
    if (expSeconds !== null && expSeconds !== undefined) {
        jwt.setExpirationTime(epoch() + Number(expSeconds));
    }
    return jwt.sign(botKey.privateKey);
}

/* One verifier per trusted JWKS URL; a token is good when any of them accepts it. */
function makeVerifier(urls, agent) {
    const sets = urls.map((url) => ({
        url,
        jwks: createRemoteJWKSet(new URL(url), {
            agent, cooldownDuration: 1000, cacheMaxAge: 60000, timeoutDuration: 5000,
        }),
    }));
    return async function verify(token) {
        const errors = [];
        for (const { url, jwks } of sets) {
            try {
                // No clockTolerance: OpenMetadata rejects a token the second it expires.
                const { payload, protectedHeader } = await jwtVerify(token, jwks,
                    { algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] });
                return { verified: true, jwksUrl: url, claims: payload, header: protectedHeader };
            } catch (err) {
                errors.push({ url, code: err.code || 'ERR', message: err.message });
            }
        }
        // The most telling reason: a key that matched but refused beats "no such key".
        const telling = errors.find((e) => e.code !== 'ERR_JWKS_NO_MATCHING_KEY') || errors[0];
        const error = telling ? `${telling.code}: ${telling.message}` : 'no JWKS';
        return { verified: false, error, errors };
    };
}

function principal(claims) {
    for (const name of PRINCIPAL_CLAIMS) {
        const value = claims[name];
        if (typeof value === 'string' && value) {
            return { name: value.includes('@') ? value.split('@')[0] : value,
                email: value.includes('@') ? value : (claims.email ?? null) };
        }
    }
    return undefined;
}

/* What the Authorization header proves: { scheme, bearer, verified, user, ... }. */
async function identify(req, verify, ownJwksUrl) {
    const header = req.headers.authorization;
    if (!header) {
        return { scheme: null, bearer: null, verified: false, error: 'no Authorization header' };
    }
    const [scheme, ...rest] = header.split(' ');
    const token = rest.join(' ').trim();
    if (scheme.toLowerCase() !== 'bearer' || !token) {
        return { scheme, bearer: null, verified: false, error: 'not a Bearer token' };
    }
    const out = await verify(token);
    if (!out.verified) {
        let unverified = null;
        try {
            unverified = decodeJwt(token);
        } catch {
            unverified = null;
        }
        return { scheme, bearer: token, verified: false, error: out.error,
            unverified_claims: unverified };
    }
    const who = principal(out.claims);
    if (!who) {
        return { scheme, bearer: token, verified: false, error: 'no principal claim',
            claims: out.claims };
    }
    return {
        scheme,
        bearer: token,
        verified: true,
        source: out.jwksUrl === ownJwksUrl ? 'openmetadata' : 'provider',
        jwks_url: out.jwksUrl,
        user: who.name,
        email: who.email,
        is_bot: out.claims.isBot === true,
        claims: out.claims,
    };
}

function sendJson(res, status, obj, extra = {}) {
    const body = `${JSON.stringify(obj, null, 1)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
}

function htmlEscape(s) {
    return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function identityPage(path, who, headers) {
    const status = who.verified
        ? `<p id="token-status" class="ok">The forwarded Bearer token verified:
signed by a key from <code>${htmlEscape(who.jwks_url)}</code>.</p>
<p id="identity">Signed in to OpenMetadata as <b id="user">${htmlEscape(who.user)}</b>
(<span id="email">${htmlEscape(who.email ?? '')}</span>)${who.is_bot ? ', a bot' : ''}.</p>`
        : `<p id="token-status" class="bad">No verified token: ${htmlEscape(who.error)}.</p>
<p id="identity">OpenMetadata would treat this request as anonymous (its API answers 401).</p>`;
    const oneLogin = Object.entries(headers)
        .filter(([k]) => k.startsWith('x-onelogin-'))
        .map(([k, v]) => `<tr><th>${htmlEscape(k)}</th><td>${htmlEscape(v)}</td></tr>`).join('');
    return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>OpenMetadata stand-in</title>
<style>body{font-family:sans-serif;margin:2em}.ok{color:#060}.bad{color:#a00}
th{text-align:left;padding-right:1em}td{font-family:monospace}</style></head>
<body>
<h1>OpenMetadata stand-in</h1>
${status}
<p>${htmlEscape(path)}</p>
<table>${oneLogin}</table>
<p><a href="/api/v1/users/loggedInUser">/api/v1/users/loggedInUser</a> |
<a href="/logout">Sign out</a></p>
</body></html>
`;
}

function readBody(req, limit = 65536) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
            size += c.length;
            if (size > limit) {
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

class RequestLog {
    constructor() {
        this.entries = [];
    }

    add(entry) {
        this.entries.push(entry);
        if (this.entries.length > MAX_LOG) {
            this.entries.shift();
        }
    }
}

function logEntry(req, url, who, extra = {}) {
    const { claims, unverified_claims: unverified, ...rest } = who;
    return {
        time: Date.now() / 1000,
        method: req.method,
        path: url.pathname + url.search,
        listener: req.socket.encrypted ? 'https' : 'http',
        websocket: false,
        ...rest,
        claims: claims ?? null,
        unverified_claims: unverified ?? null,
        headers: { ...req.headers },
        ...extra,
    };
}

async function handleControl(req, res, url, ctx) {
    const route = `${req.method} ${url.pathname}`;
    const input = req.method === 'POST' ? await readBody(req) : '';
    let json = {};
    try {
        json = input ? JSON.parse(input) : {};
    } catch {
        return sendJson(res, 400, { error: 'body is not JSON' });
    }
    switch (route) {
    case 'GET /__om/requests':
        return sendJson(res, 200, ctx.log.entries);
    case 'POST /__om/reset':
        ctx.log.entries = [];
        return sendJson(res, 200, { ok: true });
    case 'POST /__om/bot-token':
        return sendJson(res, 200, { token: await mintBotToken(ctx.botKey, json) });
    case 'GET /__om/state':
        return sendJson(res, 200, {
            http_port: ctx.ports.http, https_port: ctx.ports.https,
            public_key_urls: ctx.publicKeyUrls, bot_kid: ctx.botKey.publicJwk.kid,
        });
    default:
        return sendJson(res, 404, { error: `no control route ${route}` });
    }
}

function unauthorized(res, who) {
    sendJson(res, 401, { code: 401, message: `Not Authorized! ${who.error}` },
        { 'www-authenticate': 'Bearer' });
}

async function handleApi(req, res, url, who, ctx) {
    const path = url.pathname.replace(/\/+$/, '');
    if (path === JWKS_PATH) {
        return sendJson(res, 200, { keys: [ctx.botKey.publicJwk] });
    }
    if (path === '/api/v1/system/version') {
        return sendJson(res, 200, { version: '1.9.0-standin', revision: 'standin',
            timestamp: ctx.started });
    }
    if (path === '/api/v1/system/health') {
        return sendJson(res, 200, { healthy: true });
    }
    if (path === '/api/v1/system/config/auth') {
        return sendJson(res, 200, { provider: 'custom-oidc', providerName: 'OneLogin',
            publicKeyUrls: ctx.publicKeyUrls, jwtPrincipalClaims: PRINCIPAL_CLAIMS });
    }
    if (path === '/api/v1/system/config/authorizer') {
        return sendJson(res, 200, { principalDomain: 'example.com' });
    }
    if (!who.verified) {
        return unauthorized(res, who);
    }
    // For tests: which token answered (the exp of the verified token).
    const tokenExp = { 'x-standin-token-exp': String(who.claims.exp ?? '') };
    if (path === '/api/v1/users/loggedInUser') {
        return sendJson(res, 200, { name: who.user, email: who.email, isBot: who.is_bot,
            fullyQualifiedName: who.user, verifiedBy: who.source }, tokenExp);
    }
    if (path === FEED_PATH) {
        // socket.io's first long-polling request: an "open" packet; the upgrade follows.
        res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' });
        return res.end(`0${JSON.stringify({ sid: randomBytes(10).toString('base64url'),
            upgrades: ['websocket'], pingInterval: 25000, pingTimeout: 20000 })}`);
    }
    return sendJson(res, 200, { path: url.pathname + url.search, method: req.method,
        user: who.user, email: who.email, isBot: who.is_bot }, tokenExp);
}

async function handleRequest(req, res, ctx) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname.startsWith('/__om/')) {
        return handleControl(req, res, url, ctx);
    }
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
        await readBody(req, 1 << 20);
    }
    const path = url.pathname;
    const isApi = path === '/api' || path.startsWith('/api/');
    const open = isApi && OPEN_API.has(path.replace(/\/+$/, ''));
    const who = open && !req.headers.authorization
        ? { scheme: null, bearer: null, verified: false, error: 'no Authorization header' }
        : await identify(req, ctx.verify, ctx.ownJwksUrl);
    ctx.log.add(logEntry(req, url, who, { open }));
    if (path === '/healthcheck') {
        return sendJson(res, 200, { deadlocks: { healthy: true }, 'openmetadata-standin':
            { healthy: true } });
    }
    if (isApi) {
        return handleApi(req, res, url, who, ctx);
    }
    const body = identityPage(path + url.search, who, req.headers);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body) });
    return res.end(req.method === 'HEAD' ? undefined : body);
}

/* RFC 6455 server frame (never masked). */
function wsFrame(opcode, payload) {
    const len = payload.length;
    let head;
    if (len < 126) {
        head = Buffer.from([0x80 | opcode, len]);
    } else if (len < 65536) {
        head = Buffer.alloc(4);
        head.writeUInt8(0x80 | opcode, 0);
        head.writeUInt8(126, 1);
        head.writeUInt16BE(len, 2);
    } else {
        head = Buffer.alloc(10);
        head.writeUInt8(0x80 | opcode, 0);
        head.writeUInt8(127, 1);
        head.writeBigUInt64BE(BigInt(len), 2);
    }
    return Buffer.concat([head, payload]);
}

/* Splits complete client frames off `buf`: { frames: [{opcode, payload}], rest }. */
function wsParse(buf) {
    const frames = [];
    let off = 0;
    while (buf.length - off >= 2) {
        const b0 = buf[off];
        const b1 = buf[off + 1];
        let len = b1 & 0x7f;
        let pos = off + 2;
        if (len === 126) {
            if (buf.length < pos + 2) break;
            len = buf.readUInt16BE(pos);
            pos += 2;
        } else if (len === 127) {
            if (buf.length < pos + 8) break;
            len = Number(buf.readBigUInt64BE(pos));
            pos += 8;
        }
        const masked = (b1 & 0x80) !== 0;
        const maskLen = masked ? 4 : 0;
        if (buf.length < pos + maskLen + len) break;
        const mask = masked ? buf.subarray(pos, pos + 4) : null;
        const payload = Buffer.from(buf.subarray(pos + maskLen, pos + maskLen + len));
        if (mask) {
            for (let i = 0; i < payload.length; i += 1) payload[i] ^= mask[i % 4];
        }
        frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, payload });
        off = pos + maskLen + len;
    }
    return { frames, rest: buf.subarray(off) };
}

function badUpgrade(socket, status, text) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

async function handleUpgrade(req, socket, head, ctx) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const who = await identify(req, ctx.verify, ctx.ownJwksUrl);
    ctx.log.add(logEntry(req, url, who, { websocket: true }));
    const key = req.headers['sec-websocket-key'];
    if (url.pathname.replace(/\/+$/, '') !== FEED_PATH) {
        return badUpgrade(socket, 404, 'Not Found');
    }
    if ((req.headers.upgrade || '').toLowerCase() !== 'websocket' || !key
        || req.headers['sec-websocket-version'] !== '13') {
        return badUpgrade(socket, 400, 'Bad Request');
    }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
        + `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.from(head || []);
    const onData = (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        const { frames, rest } = wsParse(buf);
        buf = rest;
        for (const f of frames) {
            if (!f.masked) {
                // RFC 6455 5.1: a server closes on an unmasked client frame.
                socket.end(wsFrame(0x8, Buffer.from([0x03, 0xea])));
                return;
            }
            if (f.opcode === 0x1 || f.opcode === 0x2) {
                socket.write(wsFrame(f.opcode, f.payload));
            } else if (f.opcode === 0x9) {
                socket.write(wsFrame(0xa, f.payload));
            } else if (f.opcode === 0x8) {
                socket.end(wsFrame(0x8, f.payload.subarray(0, 2)));
                return;
            }
        }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    return onData(Buffer.alloc(0));
}

function listen(server, port) {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(server.address().port));
    });
}

async function main() {
    const opts = options();
    const botKey = await makeBotKey();
    const log = new RequestLog();
    const ctx = { botKey, log, started: Date.now() };

    const tls = { cert: readFileSync(opts.cert), key: readFileSync(opts.key) };
    const plain = http.createServer({ keepAliveTimeout: 30000 });
    const secure = https.createServer({ ...tls, keepAliveTimeout: 30000 });
    ctx.ports = { http: await listen(plain, opts.httpPort),
        https: await listen(secure, opts.httpsPort) };
    ctx.ownJwksUrl = `https://127.0.0.1:${ctx.ports.https}${JWKS_PATH}`;
    ctx.publicKeyUrls = [...opts.publicKeyUrls, ctx.ownJwksUrl];
    const agent = new https.Agent({ ca: opts.ca ? readFileSync(opts.ca) : undefined,
        keepAlive: true });
    ctx.verify = makeVerifier(ctx.publicKeyUrls, agent);

    for (const server of [plain, secure]) {
        server.on('request', (req, res) => {
            handleRequest(req, res, ctx).catch((err) => {
                console.error(`openmetadata: ${req.method} ${req.url}: ${err.stack || err}`);
                if (!res.headersSent) {
                    sendJson(res, 500, { code: 500, message: 'stand-in failed' });
                } else {
                    res.destroy();
                }
            });
        });
        server.on('upgrade', (req, socket, head) => {
            handleUpgrade(req, socket, head, ctx).catch((err) => {
                console.error(`openmetadata: upgrade ${req.url}: ${err.stack || err}`);
                socket.destroy();
            });
        });
    }

    const stop = () => {
        plain.close();
        secure.close();
        process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdout.write(`READY http=${ctx.ports.http} https=${ctx.ports.https}\n`);
}

main().catch((err) => {
    console.error(`openmetadata: ${err.stack || err}`);
    process.exit(1);
});
