/**
 * 003 — API keys: only the SHA-256 digest of each key is stored (`hash`, unique: it is how a
 * presented key is found). `scopes` is a comma-separated list; `revoked_at` set means revoked.
 */
export const sql = `
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,
  prefix      TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  rate_limit  INTEGER,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) WITHOUT ROWID;
`;
