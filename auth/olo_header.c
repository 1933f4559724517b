/* Which client headers would speak for the module. */
#include <apr_lib.h>
#include "olo_header.h"

/* Compares name's start with want (lower case, dashes), '_' matching '-'. Returns the rest of
 * name after the match, or NULL. */
static const char *olo_header_skip(const char *name, const char *want)
{
    for (; *want; name++, want++) {
        char c = (*name == '_') ? '-' : (char)apr_tolower((unsigned char)*name);
        if (c != *want) {
            return NULL;
        }
    }
    return name;
}

int olo_header_is_reserved(const char *name)
{
    const char *rest;
    if (olo_header_skip(name, "x-onelogin-") || olo_header_skip(name, "oidc-")) {
        return 1;
    }
    rest = olo_header_skip(name, "x-auth-params-email");
    return rest && !*rest;
}
