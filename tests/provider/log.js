// What the provider saw, for tests to assert on: every request to the token, JWKS,
// discovery and userinfo endpoints. Token requests record which form fields were sent
// (and the code_verifier itself, so a test can check it against the code_challenge),
// never whether they were accepted by oidc-provider alone: the status is recorded too.

const ENDPOINTS = {
    '/token': 'token',
    '/certs': 'jwks',
    '/.well-known/openid-configuration': 'discovery',
    '/me': 'userinfo',
    '/logout': 'end_session',
    '/logout/confirm': 'end_session',
};

const MAX_ENTRIES = 500;

export class RequestLog {
    constructor() {
        this.entries = [];
    }

    clear() {
        this.entries = [];
    }

    add(ctx, extra) {
        const endpoint = ENDPOINTS[ctx.path];
        if (!endpoint) {
            return;
        }
        const entry = {
            endpoint,
            time: Date.now() / 1000,
            method: ctx.method,
            path: ctx.req.originalUrl || ctx.url,
            status: ctx.status,
            headers: redacted(ctx.headers),
            authorization_present: !!ctx.get('authorization'),
            authorization_scheme: (ctx.get('authorization') || '').split(' ')[0] || null,
            ...extra,
        };
        if (endpoint === 'token') {
            Object.assign(entry, tokenFields(ctx.oidc?.body || formOf(ctx.request.body)),
                answerFields(ctx));
        }
        this.entries.push(entry);
        if (this.entries.length > MAX_ENTRIES) {
            this.entries.shift();
        }
    }

    list(endpoint) {
        return endpoint === 'all'
            ? this.entries
            : this.entries.filter((e) => e.endpoint === endpoint);
    }
}

/* A form the fault middleware read itself (a replayed answer never reaches oidc-provider). */
function formOf(body) {
    return typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : {};
}

/* Header values that carry a secret are replaced by their scheme. */
function redacted(headers) {
    const out = { ...headers };
    if (out.authorization) {
        out.authorization = `${out.authorization.split(' ')[0]} <redacted>`;
    }
    return out;
}

/* What the token endpoint answered, without the tokens themselves. */
function answerFields(ctx) {
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    return {
        id_token_returned: typeof body.id_token === 'string',
        refresh_token_returned: typeof body.refresh_token === 'string',
        error: body.error ?? null,
        granted_scope: body.scope ?? null,
    };
}

function tokenFields(body) {
    return {
        form_fields: Object.keys(body).sort(),
        grant_type: body.grant_type ?? null,
        client_id: body.client_id ?? null,
        client_secret_present: body.client_secret !== undefined,
        code_present: body.code !== undefined,
        code_verifier_present: body.code_verifier !== undefined,
        code_verifier: body.code_verifier ?? null,
        redirect_uri: body.redirect_uri ?? null,
        refresh_token_present: body.refresh_token !== undefined,
    };
}
