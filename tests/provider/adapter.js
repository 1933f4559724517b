// In-memory storage for oidc-provider models (sessions, codes, tokens, grants).
//
// The "Client" model is special: clients come from a registry that the test control
// endpoint can extend at run time (one redirect URI per httpd instance a test starts).
// oidc-provider looks clients up through the adapter when they are not static, and
// rebuilds its Client object whenever the returned metadata changes.

const store = new Map(); // "<Model>:<id>" -> { payload, expiresAt }
const clients = new Map(); // client_id -> metadata (snake_case, as in registration)

function now() {
    return Math.floor(Date.now() / 1000);
}

function live(entry) {
    return entry && (!entry.expiresAt || entry.expiresAt > now());
}

export function registerClient(metadata) {
    clients.set(metadata.client_id, structuredClone(metadata));
}

export function clientMetadata(clientId) {
    const md = clients.get(clientId);
    return md ? structuredClone(md) : undefined;
}

export function listClients() {
    return [...clients.values()].map((md) => structuredClone(md));
}

/* Adds URIs to a registered client's list field, keeping the order and no duplicates. */
export function addClientUris(clientId, field, uris) {
    const md = clients.get(clientId);
    if (!md) {
        return false;
    }
    const list = md[field] || [];
    for (const uri of uris) {
        if (!list.includes(uri)) {
            list.push(uri);
        }
    }
    md[field] = list;
    return true;
}

export class TestAdapter {
    constructor(model) {
        this.model = model;
    }

    key(id) {
        return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
        const expiresAt = expiresIn ? now() + expiresIn : undefined;
        store.set(this.key(id), { payload: structuredClone(payload), expiresAt });
    }

    async find(id) {
        if (this.model === 'Client') {
            return clientMetadata(id);
        }
        const entry = store.get(this.key(id));
        return live(entry) ? structuredClone(entry.payload) : undefined;
    }

    async findByUserCode(userCode) {
        return this.findBy((p) => p.userCode === userCode);
    }

    async findByUid(uid) {
        return this.findBy((p) => p.uid === uid);
    }

    async findBy(match) {
        const prefix = `${this.model}:`;
        for (const [key, entry] of store) {
            if (key.startsWith(prefix) && live(entry) && match(entry.payload)) {
                return structuredClone(entry.payload);
            }
        }
        return undefined;
    }

    async consume(id) {
        const entry = store.get(this.key(id));
        if (entry) {
            entry.payload.consumed = now();
        }
    }

    async destroy(id) {
        store.delete(this.key(id));
    }

    async revokeByGrantId(grantId) {
        for (const [key, entry] of store) {
            if (entry.payload.grantId === grantId) {
                store.delete(key);
            }
        }
    }
}
