-- Bench data: 10k releases, 100k checklist rows, 1M audit rows. For the bench database
-- only: the audit rows are filler, so `shipgate audit verify` is not meant to pass here.
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

ANALYZE;
