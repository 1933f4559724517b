// The login page: GET /oidc/2/interaction/:uid shows a form (fields `login`, `password`),
// POST checks the password and hands the result back to oidc-provider, which redirects
// the browser to the resume URL and from there to the client's redirect_uri.
// GET /oidc/2/interaction/:uid/abort ends the login with error=access_denied.

import { checkPassword } from './accounts.js';

function loginForm(uid, mount, htmlEscape, error) {
    const action = `${mount}/interaction/${encodeURIComponent(uid)}`;
    const message = error ? `<p class="error" id="login-error">${htmlEscape(error)}</p>` : '';
    return `${message}
<form method="post" action="${htmlEscape(action)}" id="login-form">
  <label>Email <input type="text" name="login" autofocus></label><br>
  <label>Password <input type="password" name="password"></label><br>
  <button type="submit">Sign in</button>
</form>
<p><a href="${htmlEscape(action)}/abort" id="abort">Cancel</a></p>`;
}

function sendHtml(res, status, html) {
    res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
    });
    res.end(html);
}

/* Finishes a consent prompt at once; loadExistingGrant normally avoids it altogether. */
async function grantEverything(provider, details) {
    const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId,
            clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) {
        grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    }
    if (missing.missingOIDCClaims) {
        grant.addOIDCClaims(missing.missingOIDCClaims);
    }
    return { consent: { grantId: await grant.save() } };
}

export async function handleInteraction(req, res, url, { provider, mount, readBody, page,
    htmlEscape }) {
    let details;
    try {
        details = await provider.interactionDetails(req, res);
    } catch (err) {
        return sendHtml(res, 400, page('Sign-in expired',
            `<p>This sign-in request is unknown or expired (${htmlEscape(err.message)}).</p>`));
    }
    const { uid, prompt } = details;
    const tail = url.pathname.slice(`${mount}/interaction/${uid}`.length);

    if (tail === '/abort' && req.method === 'GET') {
        return provider.interactionFinished(req, res, {
            error: 'access_denied',
            error_description: 'End-User aborted interaction',
        }, { mergeWithLastSubmission: false });
    }
    if (tail !== '') {
        return sendHtml(res, 404, page('Not found', ''));
    }
    if (prompt.name === 'consent') {
        return provider.interactionFinished(req, res, await grantEverything(provider, details),
            { mergeWithLastSubmission: true });
    }
    if (req.method === 'GET') {
        return sendHtml(res, 200, page('Sign in to the test provider',
            loginForm(uid, mount, htmlEscape)));
    }
    if (req.method !== 'POST') {
        return sendHtml(res, 405, page('Method not allowed', ''));
    }
    const form = new URLSearchParams(await readBody(req));
    const accountId = checkPassword(form.get('login'), form.get('password'));
    if (!accountId) {
        return sendHtml(res, 200, page('Sign in to the test provider',
            loginForm(uid, mount, htmlEscape, 'Invalid email or password.')));
    }
    return provider.interactionFinished(req, res, { login: { accountId } },
        { mergeWithLastSubmission: false });
}
