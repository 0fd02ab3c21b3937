-- The batch query, searched matches listed; row_expression is a format's row-*.sql.
-- Parameters besides :separator: {"org_id": "org-1", "rowids": "[3,5,8]", "limit": 2000, "ahead": 0}
WITH batch AS MATERIALIZED (
    SELECT row_expression AS encoded_row, "created_at" AS sort_value, id
    FROM "sellers"
    WHERE +org_id = :org_id AND deleted_at IS NULL AND rowid IN (SELECT value FROM json_each(:rowids))
    ORDER BY "created_at" DESC, id DESC
    LIMIT :limit + :ahead
)
SELECT (SELECT count(*) FROM batch), (
    SELECT sort_value
    FROM batch
    LIMIT 1 OFFSET min((SELECT count(*) FROM batch), :limit) - 1
), (
    SELECT id
    FROM batch
    LIMIT 1 OFFSET min((SELECT count(*) FROM batch), :limit) - 1
), CAST((SELECT group_concat(encoded_row, :separator) FROM batch) AS BLOB)
