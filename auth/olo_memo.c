/* A per-process memo of opened sessions: see olo_memo.h. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "olo_memo.h"

/* The tail of a sealed value is its GCM tag: random-looking, different for every sealing,
 * so a few of its characters are a good slot index at no cost. */
#define OLO_MEMO_TAIL 8

typedef struct {
    char *sealed;           /* the exact value; NULL when the slot is empty */
    apr_size_t len;
    olo_session_t session;  /* strings point into block */
    char *block;
    apr_size_t block_len;
} olo_memo_slot_t;

struct olo_memo_t {
    olo_memo_slot_t *slots;
    apr_size_t mask;
    apr_thread_mutex_t *mutex;
};

static void olo_memo_slot_clear(olo_memo_slot_t *slot)
{
    free(slot->sealed);
    free(slot->block);
    memset(slot, 0, sizeof(*slot));
}

static apr_status_t olo_memo_cleanup(void *data)
{
    olo_memo_t *memo = data;
    for (apr_size_t i = 0; i <= memo->mask; i++) {
        olo_memo_slot_clear(&memo->slots[i]);
    }
    free(memo->slots);
    return APR_SUCCESS;
}

apr_status_t olo_memo_create(olo_memo_t **pmemo, apr_pool_t *p, apr_size_t slots)
{
    apr_size_t n = 1;
    while (n < slots) {
        n <<= 1;
    }
    olo_memo_t *memo = apr_pcalloc(p, sizeof(*memo));
    apr_status_t rv = apr_thread_mutex_create(&memo->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    memo->slots = calloc(n, sizeof(*memo->slots));
    if (!memo->slots) {
        return APR_ENOMEM;
    }
    memo->mask = n - 1;
    apr_pool_cleanup_register(p, memo, olo_memo_cleanup, apr_pool_cleanup_null);
    *pmemo = memo;
    return APR_SUCCESS;
}

static apr_size_t olo_memo_index(const olo_memo_t *memo, const char *sealed, apr_size_t len)
{
    apr_size_t h = len;
    const char *tail = sealed + (len > OLO_MEMO_TAIL ? len - OLO_MEMO_TAIL : 0);
    for (; *tail; tail++) {
        h = h * 31 + (unsigned char)*tail;
    }
    return h & memo->mask;
}

/* The session's strings, in member order, for copying them as one block. */
#define OLO_MEMO_STRINGS(s) {&(s)->id, &(s)->user, &(s)->sub, &(s)->email, &(s)->name, \
                             &(s)->groups, &(s)->id_token, &(s)->refresh_token}
#define OLO_MEMO_NSTRINGS 8

/* Points the copy's strings at the same offsets in block as the original's in old_block. */
static void olo_memo_rebase(olo_session_t *copy, const char *old_block, const char *block)
{
    const char **fields[] = OLO_MEMO_STRINGS(copy);
    for (int i = 0; i < OLO_MEMO_NSTRINGS; i++) {
        if (*fields[i]) {
            *fields[i] = block + (*fields[i] - old_block);
        }
    }
}

olo_session_t *olo_memo_get(olo_memo_t *memo, apr_pool_t *p, const char *sealed)
{
    apr_size_t len = strlen(sealed);
    olo_memo_slot_t *slot = &memo->slots[olo_memo_index(memo, sealed, len)];
    olo_session_t *copy = NULL;
    apr_thread_mutex_lock(memo->mutex);
    if (slot->sealed && slot->len == len && !memcmp(slot->sealed, sealed, len)) {
        copy = apr_pmemdup(p, &slot->session, sizeof(*copy));
        char *block = apr_pmemdup(p, slot->block, slot->block_len);
        olo_memo_rebase(copy, slot->block, block);
    }
    apr_thread_mutex_unlock(memo->mutex);
    return copy;
}

void olo_memo_put(olo_memo_t *memo, const char *sealed, const olo_session_t *session)
{
    apr_size_t len = strlen(sealed), block_len = 0, at = 0;
    olo_session_t copy = *session;
    const char **fields[] = OLO_MEMO_STRINGS(&copy);
    for (int i = 0; i < OLO_MEMO_NSTRINGS; i++) {
        block_len += *fields[i] ? strlen(*fields[i]) + 1 : 0;
    }
    char *block = malloc(block_len ? block_len : 1);
    char *value = malloc(len + 1);
    if (!block || !value) {
        free(block);
        free(value);
        return;
    }
    for (int i = 0; i < OLO_MEMO_NSTRINGS; i++) {
        if (*fields[i]) {
            apr_size_t n = strlen(*fields[i]) + 1;
            memcpy(block + at, *fields[i], n);
            *fields[i] = block + at;
            at += n;
        }
    }
    memcpy(value, sealed, len + 1);
    olo_memo_slot_t *slot = &memo->slots[olo_memo_index(memo, sealed, len)];
    apr_thread_mutex_lock(memo->mutex);
    olo_memo_slot_clear(slot);
    *slot = (olo_memo_slot_t){value, len, copy, block, block_len};
    apr_thread_mutex_unlock(memo->mutex);
}

apr_status_t olo_session_open_memo(olo_session_t **psession, olo_reason_t *preason,
                                   apr_pool_t *p, const olo_seal_key_t *key, olo_memo_t *memo,
                                   const char *value, apr_time_t now)
{
    olo_session_t *session = (memo && value) ? olo_memo_get(memo, p, value) : NULL;
    if (session) {
        /* the lifetime is in the sealed text: the memo keeps it, the clock moved on */
        int expired = now >= session->expires;
        if (preason) {
            *preason = expired ? OLO_R_SESSION_EXPIRED : OLO_OK;
        }
        *psession = expired ? NULL : session;
        return expired ? APR_EGENERAL : APR_SUCCESS;
    }
    apr_status_t rv = olo_session_open(psession, preason, p, key, value, now);
    if (rv == APR_SUCCESS && memo) {
        olo_memo_put(memo, value, *psession);
    }
    return rv;
}

apr_status_t olo_session_handle_open_memo(const char **pid, apr_pool_t *p,
                                          const olo_seal_key_t *key, olo_memo_t *memo,
                                          const char *value)
{
    olo_session_t *known = (memo && value) ? olo_memo_get(memo, p, value) : NULL;
    if (known) {
        *pid = known->id;
        return APR_SUCCESS;
    }
    apr_status_t rv = olo_session_handle_open(pid, p, key, value);
    if (rv == APR_SUCCESS && memo) {
        olo_session_t named = {0};
        named.id = *pid;
        olo_memo_put(memo, value, &named);
    }
    return rv;
}
