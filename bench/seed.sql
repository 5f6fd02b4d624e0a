-- Bench data: 10k releases, 100k checklist rows, 1M audit rows, 100k archived releases. For
-- the bench database only: the audit rows are filler, so `shipgate audit verify` is not
-- meant to pass here.
INSERT INTO releases (title, version, environment, window_start, window_end, phase,
                      release_captain_id, product_owner_id, artifact_version, commit_sha)
SELECT 'Release ' || g, '1.' || g || '.0', CASE WHEN g % 3 = 0 THEN 'staging' ELSE 'prod' END,
       now() + (g % 500) * interval '1 hour', now() + (g % 500) * interval '1 hour' + interval '2 hours',
       (ARRAY['draft','staging_gate','go_no_go','go_live','done','no_go','rolled_back'])[1 + g % 7],
       (SELECT id FROM users WHERE email = 'captain@bench.example'),
       (SELECT id FROM users WHERE email = 'owner@bench.example'),
       '1.' || g || '.0+build', lpad(to_hex(g), 7, '0')
FROM generate_series(1, 10000) g;

INSERT INTO checklist_items (release_id, kind, position, key, section_de, section_en, text_de, text_en,
                             evidence_required, state)
SELECT r.id, CASE WHEN n <= 6 THEN 'release_checklist' WHEN n <= 8 THEN 'staging_gate' ELSE 'go_live' END,
       n, 'item_' || n, 'Abschnitt', 'Section', 'Punkt ' || n, 'Item ' || n, n % 2 = 0,
       (ARRAY['open','passed','failed','not_applicable'])[1 + (r.id + n) % 4]
FROM releases r, generate_series(1, 10) n;

INSERT INTO audit_log (at, actor_id, actor, action, release_id, old_value, new_value, prev_hash, hash)
SELECT now() - (1000000 - g) * interval '1 second', NULL, 'bench', 'checklist.item',
       1 + g % 10000, '{"state":"open"}'::jsonb, '{"state":"passed"}'::jsonb,
       md5((g - 1)::text), md5(g::text)
FROM generate_series(1, 1000000) g;

-- The archive: 100k ended releases over the last 24 months, each with its archive row
-- written the way a sealed dossier files it (the search text from title, version,
-- artifact, commit, checklist notes and known issues).
WITH ended AS (
    INSERT INTO releases (title, version, artifact_version, commit_sha, environment, window_start, window_end,
                          phase, release_captain_id, product_owner_id)
    SELECT (ARRAY['Checkout', 'Payments', 'Search', 'Login', 'Push notifications', 'Billing', 'Onboarding',
                  'Profile', 'Reporting', 'Admin console', 'Inventory', 'Shipping'])[1 + g % 12]
               || ' ' || (ARRAY['release', 'hotfix', 'rollout', 'update', 'migration', 'cleanup'])[1 + g / 12 % 6],
           v.version, v.version || '+build.' || g, substr(md5(g::text) || md5((g * 7)::text), 1, 40),
           (ARRAY['prod', 'prod-eu', 'prod-us', 'staging'])[1 + g % 4],
           v.start, v.start + interval '2 hours',
           CASE WHEN g % 10 = 3 THEN 'no_go' WHEN g % 10 = 7 THEN 'rolled_back' ELSE 'done' END,
           (SELECT id FROM users WHERE email = 'captain@bench.example'),
           (SELECT id FROM users WHERE email = 'owner@bench.example')
    FROM generate_series(1, 100000) g,
         LATERAL (SELECT now() - interval '730 days' + g * interval '630 seconds' AS start,
                         (g / 2000) % 10 || '.' || (g / 40) % 50 || '.' || g % 40
                             || CASE WHEN g % 9 = 0 THEN '-rc' || (g % 3 + 1) ELSE '' END AS version) v
    RETURNING id, title, version, artifact_version, commit_sha, environment, window_start, phase
)
INSERT INTO archive_entries (release_id, outcome, title, version, commit_sha, environment, window_start, ended_at,
                             staging_started_at, restore_seconds, people, search)
SELECT e.id, e.phase, e.title, e.version, e.commit_sha, e.environment, e.window_start,
       e.window_start + interval '90 minutes',
       CASE WHEN e.phase <> 'no_go' THEN e.window_start - interval '12 hours' - (e.id % 48) * interval '1 hour' END,
       CASE WHEN e.phase = 'rolled_back' THEN 120 + (e.id * 37) % 3600 END,
       ARRAY[(ARRAY['captain@bench.example', 'anna@bench.example', 'ben@bench.example'])[1 + e.id % 3],
             (ARRAY['owner@bench.example', 'olga@bench.example'])[1 + e.id % 2],
             (ARRAY['sam@bench.example', 'tina@bench.example', 'uwe@bench.example', 'vera@bench.example'])[1 + e.id % 4]],
       to_tsvector('simple', e.title || ' ' || e.version || ' ' || coalesce(e.artifact_version, '') || ' '
           || coalesce(e.commit_sha, '') || ' ' || n.notes || ' ' || n.issues)
FROM ended e,
     LATERAL (SELECT (ARRAY['Smoke tests green', 'Dashboards checked', 'Canary held for 30 minutes',
                            'Blue/green switch clean', 'Latency back to normal', 'Error budget untouched',
                            'Feature flag enabled', 'Database migration ran', 'Cache warmed',
                            'Rollback plan reviewed'])[1 + e.id % 10]
                     || ' ' || (ARRAY['checkout', 'payments', 'search', 'login', 'push', 'billing', 'profile',
                                      'reports', 'inventory', 'shipping', 'webhooks', 'exports', 'imports',
                                      'sessions', 'tokens'])[1 + e.id / 10 % 15] || ' service'
                     || CASE WHEN e.id * 7 % 4999 = 3 THEN ' kerberos keytab rotated' ELSE '' END AS notes,
                     CASE WHEN e.id % 5 = 0 THEN 'PAY-' || e.id % 997 || ' Duplicate charge on retry'
                          WHEN e.id % 7 = 0 THEN 'BUG-' || e.id % 503 || ' Slow login on Android'
                          ELSE '' END AS issues) n;

-- The browser section's release (bench/browser.mjs): in the Go/No-Go phase with exactly 40
-- checklist items, owner@bench.example as product owner and captain@bench.example as
-- release captain, no sign-off yet and the preconditions met, so both may sign GO; 100 audit
-- rows like every release above. A release of its own, so the figures above stay as they
-- were. run.sh finds it by its title.
WITH r AS (
    INSERT INTO releases (title, version, artifact_version, commit_sha, environment, window_start, window_end,
                          phase, release_captain_id, product_owner_id, last_backup_at, last_restore_test_at,
                          on_call, links)
    VALUES ('Browser bench: Go/No-Go, 40 checklist items', '2.40.0', '2.40.0+build', 'b40b40b', 'prod',
            now() + interval '2 hours', now() + interval '4 hours', 'go_no_go',
            (SELECT id FROM users WHERE email = 'captain@bench.example'),
            (SELECT id FROM users WHERE email = 'owner@bench.example'),
            now() - interval '1 hour', now() - interval '3 days', 'oncall@bench.example',
            '{"down_migration": "https://git.example/shipgate/merge_requests/40",
              "runbook": "https://wiki.example/shipgate/runbook"}')
    RETURNING id
), items AS (
    -- 24 release checklist, 8 staging gate and 8 go-live items; the first 32 settled (every
    -- eighth not applicable, with its reason), the go-live ones open. Texts as long as the
    -- shipped templates' (about 80 characters).
    INSERT INTO checklist_items (release_id, kind, position, key, section_de, section_en, text_de, text_en,
                                 evidence_required, state, reason)
    SELECT r.id, k.kind, n, 'item_' || n, k.section_de, k.section_en,
           (ARRAY['Smoke-Tests auf Staging für Login, Checkout und Push-Benachrichtigungen grün.',
                  'Dashboards zeigen seit dem letzten Release keine neuen Fehler oder Latenzen.',
                  'Datenbankmigration vor- und rückwärts auf einer Kopie der Produktionsdaten getestet.',
                  'Feature-Flags dieses Releases wie geplant gesetzt und im Runbook dokumentiert.'])[1 + n % 4],
           (ARRAY['Smoke tests on staging pass for login, checkout and push notifications.',
                  'Dashboards show no new errors or latency regressions since the last release.',
                  'Database migration tested forwards and backwards on a copy of production data.',
                  'Feature flags for this release are set as planned and documented in the runbook.'])[1 + n % 4],
           n > 32 AND n % 2 = 0,
           CASE WHEN n > 32 THEN 'open' WHEN n % 8 = 0 THEN 'not_applicable' ELSE 'passed' END,
           CASE WHEN n <= 32 AND n % 8 = 0 THEN 'Not part of this release.' ELSE '' END
    FROM r, generate_series(1, 40) n,
         LATERAL (SELECT CASE WHEN n <= 24 THEN 'release_checklist' WHEN n <= 32 THEN 'staging_gate' ELSE 'go_live' END AS kind,
                         CASE WHEN n <= 24 THEN 'Release-Checkliste' WHEN n <= 32 THEN 'Staging-Gate' ELSE 'Go-Live' END AS section_de,
                         CASE WHEN n <= 24 THEN 'Release checklist' WHEN n <= 32 THEN 'Staging gate' ELSE 'Go-live' END AS section_en) k
)
INSERT INTO audit_log (at, actor_id, actor, action, release_id, old_value, new_value, prev_hash, hash)
SELECT now() - (101 - g) * interval '1 minute', NULL, 'bench', 'checklist.item', r.id,
       '{"state":"open"}'::jsonb, '{"state":"passed"}'::jsonb, md5('browser-' || (g - 1)), md5('browser-' || g)
FROM r, generate_series(1, 100) g;

-- Merges the search index's pending list (fast inserts go there first), as autovacuum would
-- soon after a bulk load; searches would otherwise scan it linearly.
VACUUM archive_entries;

ANALYZE;
