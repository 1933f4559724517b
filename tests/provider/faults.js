// Misbehaviour the test control endpoint can switch on: forged ID tokens and broken
// discovery / JWKS / token endpoints. Each forged token starts from the real ID token
// oidc-provider issued for this login, so only the one property under test is wrong.

import { CompactSign, exportJWK, generateKeyPair, importJWK } from 'jose';

export const TOKEN_MODES = new Set([
    'bad-signature', 'wrong-aud', 'wrong-iss', 'expired', 'future-iat', 'nbf-future',
    'nonce-mismatch', 'alg-none', 'hmac-confusion', 'no-kid', 'multi-aud-no-azp',
    'multi-aud-azp', 'rotate', 'claims', 'claims-raw',
]);

export const ENDPOINT_MODES = new Set([
    'discovery-500', 'discovery-badjson', 'discovery-slow', 'discovery-wrong-issuer',
    'token-500', 'jwks-500', 'no-refresh-token',
    'token-truncated', 'token-reset', 'jwks-truncated', 'jwks-malformed-extra',
]);

/* Faults of the token endpoint for grant_type=refresh_token only; code exchanges work. */
export const REFRESH_MODES = new Set([
    'refresh-500', 'refresh-invalid-grant', 'refresh-bad-token', 'refresh-no-id-token',
]);

/* Refresh-token rotation with a reuse grace period: the answer to a refresh token is given
 * again when that token comes back within `grace` seconds (default 10), as providers do that
 * rotate but forgive a second node racing the first. oidc-provider alone is strict: reuse is
 * invalid_grant and revokes the grant. */
export const GRACE_MODE = 'refresh-grace';

function b64url(data) {
    return Buffer.from(data).toString('base64url');
}

function decodePart(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function epoch() {
    return Math.floor(Date.now() / 1000);
}

/* A fresh RSA signing key: { privateKey, publicJwk } with kid and alg set. */
export async function makeRsaKey(kid) {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    return { privateKey, publicKey, publicJwk };
}

async function sign(header, payload, key) {
    const bytes = new TextEncoder().encode(JSON.stringify(payload));
    return new CompactSign(bytes).setProtectedHeader(header).sign(key);
}

/* Stands for the raw bytes of `claims-raw` until the payload is serialised. */
const RAW_PLACEHOLDER = '__olo_raw_bytes__';

/*
 * `claims`: each member of `edits` replaces the claim (null removes it); JSON can carry any
 * string, NUL and CR/LF included. `claims-raw`: claim `raw.claim` becomes a JSON string
 * whose bytes are `raw.hex` as is (e.g. "ff fe": not UTF-8, which no JSON string escape can
 * express), spliced into the serialised payload. Both keep the real key and header.
 */
function editClaims(claims, edits) {
    for (const [name, value] of Object.entries(edits || {})) {
        if (value === null) {
            delete claims[name];
        } else {
            claims[name] = value;
        }
    }
}

function rawPayload(claims, raw) {
    const bytes = Buffer.from(String(raw?.hex || '').replace(/\s+/g, ''), 'hex');
    const text = JSON.stringify({ ...claims, [raw?.claim || 'name']: RAW_PLACEHOLDER });
    const [before, after] = text.split(JSON.stringify(RAW_PLACEHOLDER));
    return Buffer.concat([Buffer.from(`${before}"`), bytes, Buffer.from(`"${after}`)]);
}

/* The claim changes of each mode that keeps the real key and header. */
const CLAIM_EDITS = {
    'wrong-aud': (c) => { c.aud = 'some-other-client'; },
    'wrong-iss': (c) => { c.iss = 'https://evil.example/oidc/2'; },
    expired: (c) => { c.iat = epoch() - 3600; c.exp = epoch() - 1800; },
    'future-iat': (c) => { c.iat = epoch() + 3600; c.exp = epoch() + 7200; },
    'nbf-future': (c) => { c.nbf = epoch() + 3600; },
    'nonce-mismatch': (c) => { c.nonce = `not-${c.nonce || 'a-nonce'}`; },
    'multi-aud-no-azp': (c, clientId) => { c.aud = [clientId, 'other']; delete c.azp; },
    'multi-aud-azp': (c, clientId) => { c.aud = [clientId, 'other']; c.azp = clientId; },
};

/*
 * Rewrites `idToken` for `state.mode`. `keys` holds the provider's real key
 * ({ privateKey, publicKey, publicJwk }), a stranger key with the same kid for
 * bad-signature, and state.rotated for rotate. Returns the new compact JWS.
 */
export async function forgeIdToken(idToken, state, keys) {
    const [headerPart, payloadPart] = idToken.split('.');
    const header = decodePart(headerPart);
    const claims = decodePart(payloadPart);
    const clientId = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    const mode = state.mode;

    if (CLAIM_EDITS[mode]) {
        CLAIM_EDITS[mode](claims, clientId);
        return sign(header, claims, keys.real.privateKey);
    }
    switch (mode) {
    case 'bad-signature':
        return sign(header, claims, keys.stranger.privateKey);
    case 'no-kid':
        return sign({ alg: header.alg }, claims, keys.real.privateKey);
    case 'alg-none':
        return `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify(claims))}.`;
    case 'hmac-confusion':
        return sign({ ...header, alg: 'HS256' }, claims, hmacSecret(keys.real, state.secret));
    case 'rotate':
        return sign({ ...header, kid: state.rotated.publicJwk.kid }, claims,
            state.rotated.privateKey);
    case 'claims':
        editClaims(claims, state.claims);
        return sign(header, claims, keys.real.privateKey);
    case 'claims-raw':
        editClaims(claims, state.claims);
        return new CompactSign(rawPayload(claims, state.raw)).setProtectedHeader(header)
            .sign(keys.real.privateKey);
    default:
        return idToken;
    }
}

/*
 * The public key as the attacker would feed it to a library that takes "the key" for
 * any alg: the SPKI PEM (default, as exported, with its final newline), the PEM without
 * that newline, or the JWK JSON.
 */
function hmacSecret(real, form) {
    const pem = real.publicKey.export({ type: 'spki', format: 'pem' });
    switch (form || 'pem') {
    case 'pem-nonl':
        return new TextEncoder().encode(pem.trimEnd());
    case 'jwk':
        return new TextEncoder().encode(JSON.stringify(real.publicJwk));
    default:
        return new TextEncoder().encode(pem);
    }
}

function sleep(ms) {
    return new Promise((resolve) => { setTimeout(resolve, ms); });
}

/*
 * Koa middleware (installed with provider.use) applying endpoint faults before the
 * provider answers, and response rewrites after it did.
 */
export function faultMiddleware({ state, keys, log }) {
    return async function applyFaults(ctx, next) {
        const path = ctx.path;
        const isDiscovery = path === '/.well-known/openid-configuration';
        const isJwks = path === '/certs';
        const isToken = path === '/token';
        const mode = state.mode;

        if ((isDiscovery && mode === 'discovery-500') || (isToken && mode === 'token-500')
            || (isJwks && mode === 'jwks-500')) {
            ctx.status = 500;
            ctx.type = 'text/plain';
            ctx.body = 'Internal Server Error (test fault)\n';
            log.add(ctx, { fault: mode });
            return;
        }
        if (isDiscovery && mode === 'discovery-slow') {
            await sleep((state.delay ?? 30) * 1000);
        }
        const graceToken = isToken && mode === GRACE_MODE ? await refreshTokenOf(ctx) : null;
        const replay = graceToken && state.graceAnswers?.get(graceToken);
        if (replay && Date.now() - replay.at <= (state.grace ?? 10) * 1000) {
            ctx.status = 200;
            ctx.type = 'application/json';
            ctx.body = replay.body;
            log.add(ctx, { mode, replayed: true });
            return;
        }

        await next();

        if (isToken && ctx.status === 200 && ctx.body?.id_token && state.lifetimes?.age) {
            const idToken = await ageIdToken(ctx.body.id_token, state.lifetimes.age, keys);
            ctx.body = { ...ctx.body, id_token: idToken };
        }
        if (graceToken && ctx.status === 200) {
            state.graceAnswers = state.graceAnswers || new Map();
            state.graceAnswers.set(graceToken, { at: Date.now(), body: ctx.body });
        }

        if (isToken && mode === 'token-reset') {
            // The provider did the work (the code is used up) and dies before answering:
            // the connection closes with no response at all.
            log.add(ctx, { mode, fault: mode });
            ctx.respond = false;
            ctx.req.socket.destroy();
            return;
        }
        const isRefresh = isToken && ctx.oidc?.body?.grant_type === 'refresh_token';
        if (isRefresh && REFRESH_MODES.has(mode)) {
            // After oidc-provider answered: the refresh token it had is used up (rotated),
            // as when a real provider fails after doing the work.
            await applyRefreshFault(ctx, mode, keys);
            log.add(ctx, { mode, fault: mode });
            return;
        }
        if (isDiscovery && ctx.status === 200) {
            rewriteDiscovery(ctx, mode);
        } else if (isJwks && ctx.status === 200 && mode === 'jwks-truncated') {
            ctx.body = truncatedJson(ctx);
        } else if (isJwks && ctx.status === 200 && mode === 'jwks-malformed-extra') {
            ctx.body = { keys: [...unusableKeys(keys), ...ctx.body.keys] };
        } else if (isToken && ctx.status === 200 && mode === 'token-truncated') {
            ctx.body = truncatedJson(ctx);
        } else if (isJwks && ctx.status === 200 && mode === 'rotate') {
            const old = state.keepOld ? [keys.real.publicJwk] : [];
            ctx.body = { keys: [state.rotated.publicJwk, ...old] };
        } else if (isToken && ctx.status === 200 && mode === 'no-refresh-token') {
            // Like an app whose provider hands out no refresh token at all.
            const { refresh_token: _dropped, ...rest } = ctx.body;
            ctx.body = rest;
        } else if (isToken && ctx.status === 200 && ctx.body?.id_token
                   && TOKEN_MODES.has(mode)) {
            const idToken = await forgeIdToken(ctx.body.id_token, state, keys);
            ctx.body = { ...ctx.body, id_token: idToken };
        }
        log.add(ctx, mode !== 'normal' ? { mode } : {});
    };
}

async function applyRefreshFault(ctx, mode, keys) {
    if (mode === 'refresh-500') {
        ctx.status = 500;
        ctx.type = 'text/plain';
        ctx.body = 'Internal Server Error (test fault)\n';
    } else if (mode === 'refresh-invalid-grant') {
        ctx.status = 400;
        ctx.type = 'application/json';
        ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
    } else if (mode === 'refresh-bad-token' && ctx.status === 200 && ctx.body?.id_token) {
        const idToken = await forgeIdToken(ctx.body.id_token, { mode: 'bad-signature' }, keys);
        ctx.body = { ...ctx.body, id_token: idToken };
    } else if (mode === 'refresh-no-id-token' && ctx.status === 200) {
        // OIDC Core 12.2 allows it, and Glewlwyd does it: a new access token only.
        const { id_token: _dropped, ...rest } = ctx.body;
        ctx.body = rest;
    }
}

/* The refresh_token of a refresh grant, read before oidc-provider reads the body: it then
 * takes the parsed body (ctx.request.body) instead of the stream. null for other grants. */
async function refreshTokenOf(ctx) {
    if (!ctx.is('application/x-www-form-urlencoded')) {
        return null;
    }
    const chunks = [];
    for await (const chunk of ctx.req) {
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    ctx.request.body = text;
    const form = new URLSearchParams(text);
    return form.get('grant_type') === 'refresh_token' ? form.get('refresh_token') : null;
}

/*
 * `POST /__test/lifetimes {"age": S}`: every ID token the token endpoint hands out (code
 * exchanges and refreshes) is dated S seconds back, lifetime kept: iat = now - S, exp = iat +
 * (exp - iat as oidc-provider issued it), re-signed with the real key under the same header
 * (kid kept). A negative S dates it ahead, as a provider whose clock runs fast. 0: as issued.
 */
export async function ageIdToken(idToken, age, keys) {
    const [headerPart, payloadPart] = idToken.split('.');
    const header = decodePart(headerPart);
    const claims = decodePart(payloadPart);
    const lifetime = claims.exp - claims.iat;
    claims.iat = epoch() - age;
    claims.exp = claims.iat + lifetime;
    return sign(header, claims, keys.real.privateKey);
}

/* The JSON answer cut in half, still labelled application/json (a provider dying mid-write
 * behind a proxy that had already sent the headers). */
function truncatedJson(ctx) {
    const text = JSON.stringify(ctx.body);
    ctx.type = 'application/json';
    return text.slice(0, Math.floor(text.length / 2));
}

/*
 * Keys a verifier must skip, listed before the real one: several carry the real key's kid so
 * that a verifier taking the first key of that name, or failing the whole set on one bad
 * member, refuses the login.
 */
function unusableKeys(keys) {
    const kid = keys.real.publicJwk.kid;
    const stranger = keys.stranger.publicJwk;
    return [
        { kty: 'RSA', kid: 'malformed-n', use: 'sig', alg: 'RS256', n: 'a=', e: 'AQAB' },
        { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: 'a=', e: 'AQAB' },
        { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: '!!not base64url!!', e: 'AQAB' },
        { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: stranger.n.slice(0, 40), e: 'AQAB' },
        { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: stranger.n, e: '' },
        { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: 12345, e: 'AQAB' },
        'not-a-key',
        42,
        null,
        ['kty', 'RSA'],
        { kid },
        { kty: 'oct', kid, k: 'c2VjcmV0LWtleS1mb3ItaG1hYw' },
        { kty: 'EC', crv: 'P-256', kid, x: 'AAAA', y: 'AAAA' },
        { kty: 'EC', crv: 'P-384', kid, x: stranger.n.slice(0, 64), y: stranger.n.slice(0, 64) },
        { kty: 'OKP', crv: 'Ed25519', kid, x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
        { ...stranger, kid, use: 'enc' },
        { ...stranger, kid, alg: 'PS256' },
        { kty: 'RSA', kid: 7, use: 'sig', n: stranger.n, e: stranger.e },
    ];
}

function rewriteDiscovery(ctx, mode) {
    if (mode === 'discovery-wrong-issuer') {
        ctx.body = { ...ctx.body, issuer: `${ctx.body.issuer}-other` };
    } else if (mode === 'discovery-badjson') {
        const text = JSON.stringify(ctx.body);
        ctx.type = 'application/json';
        ctx.body = text.slice(0, Math.floor(text.length / 2));
    }
}

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']);

export function publicPart(jwk) {
    return Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.has(k)));
}

/* oidc-provider's own key-pair for signing, plus the stranger key with the same kid. */
export async function buildKeys(realPrivateJwk) {
    const privateKey = await importJWK(realPrivateJwk, 'RS256');
    const pub = publicPart(realPrivateJwk);
    const publicKey = await importJWK(pub, 'RS256');
    const stranger = await makeRsaKey(realPrivateJwk.kid);
    return {
        real: { privateKey, publicKey, publicJwk: { ...pub, use: 'sig' } },
        stranger,
    };
}
