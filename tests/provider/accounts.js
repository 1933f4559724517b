// The test directory: two users, claims shaped like OneLogin's.
//
// OneLogin's `sub` is the numeric user id; `preferred_username` is the login; `groups`
// is an array and is released when the `groups` scope is requested.

import { timingSafeEqual } from 'node:crypto';

const USERS = [
    {
        sub: '10001',
        login: 'alice@example.com',
        password: 'alice-password',
        claims: {
            email: 'alice@example.com',
            email_verified: true,
            name: 'Alice Example',
            given_name: 'Alice',
            family_name: 'Example',
            preferred_username: 'alice@example.com',
            groups: ['Admins', 'Everyone'],
        },
    },
    {
        sub: '10002',
        login: 'bob@example.com',
        password: 'bob-password',
        claims: {
            email: 'bob@example.com',
            email_verified: true,
            name: 'Bob Example',
            given_name: 'Bob',
            family_name: 'Example',
            preferred_username: 'bob@example.com',
            groups: ['Everyone'],
        },
    },
];

function sameSecret(given, expected) {
    const a = Buffer.from(String(given));
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
}

/* Returns the user's sub when login and password match, else undefined. */
export function checkPassword(login, password) {
    const wanted = String(login || '').trim().toLowerCase();
    const user = USERS.find((u) => u.login === wanted);
    if (!user || !sameSecret(password || '', user.password)) {
        return undefined;
    }
    return user.sub;
}

/* oidc-provider's findAccount: the claims object it filters by scope and claims request. */
export async function findAccount(ctx, sub) {
    const user = USERS.find((u) => u.sub === sub);
    if (!user) {
        return undefined;
    }
    return {
        accountId: user.sub,
        async claims() {
            return { sub: user.sub, ...structuredClone(user.claims) };
        },
    };
}

/* Scope -> claims released, as configured for a OneLogin OIDC app. */
export const CLAIMS = {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
    sid: null,
    auth_time: null,
    acr: null,
    iss: null,
};
