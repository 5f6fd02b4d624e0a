DROP TABLE evidence;
DROP FUNCTION evidence_is_kept();
