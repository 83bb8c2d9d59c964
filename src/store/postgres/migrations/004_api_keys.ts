/**
 * 004 — API keys: only the SHA-256 digest of each key is stored (`hash`, unique: it is how a
 * presented key is found). `revoked_at` set means revoked.
 */
export const sql = `
CREATE TABLE api_keys (
  id          text COLLATE "C" PRIMARY KEY,
  name        text NOT NULL,
  hash        text COLLATE "C" NOT NULL UNIQUE,
  prefix      text NOT NULL,
  scopes      text[] NOT NULL,
  rate_limit  integer,
  created_at  bigint NOT NULL,
  revoked_at  bigint
);
`;
