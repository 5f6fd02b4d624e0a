DROP INDEX users_oidc_idx;
ALTER TABLE users DROP CONSTRAINT users_oidc_check, DROP COLUMN oidc_subject, DROP COLUMN oidc_issuer;
-- Accounts without a password get one nobody knows (the argon2 hash of 32 random bytes that
-- were thrown away), so the column can be required again without losing anyone.
UPDATE users SET password_hash = '$argon2id$v=19$m=19456,t=2,p=1$k9cigHbPWgMone1jw9tiMw$mHf+1fkUkPE7dsoACyVSWoCZeOp8vKqNCU+c1yqizNg'
    WHERE password_hash IS NULL;
ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL;
