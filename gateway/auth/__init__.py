"""Authentication: JWT verification, key sources (secret, PEM, JWKS) and role resolution (SPEC 3.1).

`Authenticator.compile(auth, roles, default_role)` checks the `auth:` section, the roles and
`default_role` once and loads the keys; `authenticate(headers, cookies, query)` turns a request
into a `Caller`. Behaviour where the SPEC is silent:

- No `auth:` section: tokens are not read; every request gets `default_role`.
- `role_claim` defaults to `role`; `token_from` to `[header]`; `leeway_seconds` to 0;
  `missing_token` to `default_role`.
- A non-Bearer `Authorization` header (e.g. `Basic ...`) is no token from the header source.
- A present token that fails any check raises `InvalidToken` with a metric-friendly `reason`:
  malformed, bad_signature, expired, not_yet_valid, bad_issuer, bad_audience,
  disallowed_algorithm, unknown_kid, missing_exp, iat_in_future, jwks_unavailable. A JWKS outage
  yields 401 (`unknown_kid` or `jwks_unavailable`), never a 5xx.
- Verified tokens are cached (bounded LRU keyed by the token's hash) until exp, at most 5 minutes.
"""

from gateway.auth.authenticator import Authenticator, Caller

__all__ = ["Authenticator", "Caller"]
