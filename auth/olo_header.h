#ifndef OLO_HEADER_H
#define OLO_HEADER_H

/**
 * True when a request header of that name is one only the module may set, so a client's must
 * be removed: X-OneLogin-*, X-Auth-Params-Email, and mod_auth_openidc's OIDC-* family
 * (OIDC_CLAIM_*, OIDC_access_token, OIDC_id_token...), which a backend migrated from it may
 * still trust. Case-insensitive, and '_' counts as '-': CGI, PHP and WSGI backends read
 * X_OneLogin_User and X-OneLogin-User alike as HTTP_X_ONELOGIN_USER.
 */
int olo_header_is_reserved(const char *name);

#endif
