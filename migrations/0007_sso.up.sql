-- Single sign-on: people who sign in through an OpenID provider have no password unless an
-- admin sets one, and are found again by the provider's stable subject, not their e-mail.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
ALTER TABLE users
    ADD COLUMN oidc_issuer  TEXT,
    ADD COLUMN oidc_subject TEXT,
    ADD CONSTRAINT users_oidc_check CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL));
CREATE UNIQUE INDEX users_oidc_idx ON users (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
