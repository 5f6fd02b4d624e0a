DROP TABLE tower_sessions.session;
DROP SCHEMA tower_sessions;
DROP TABLE api_tokens;
DROP TABLE users;
