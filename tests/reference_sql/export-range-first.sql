-- Then a batch reads the range (first); row_expression is a format's row-*.sql.
-- Parameters besides :separator: {"org_id": "org-1", "limit": 2001, "ahead": 0, "until_value": "2025-03-01T10:00:00Z", "until_id": "sid-1"}
WITH dated AS MATERIALIZED (
    SELECT row_expression AS encoded_row, "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND "created_at" IS NOT NULL AND ("created_at", id) >= (:until_value, :until_id)
    ORDER BY "created_at" DESC, id DESC
    LIMIT :limit + :ahead
)
SELECT (SELECT count(*) FROM dated), (
    SELECT sort_value
    FROM dated
    LIMIT 1 OFFSET min((SELECT count(*) FROM dated), :limit) - 1
), (
    SELECT id
    FROM dated
    LIMIT 1 OFFSET min((SELECT count(*) FROM dated), :limit) - 1
), CAST((SELECT group_concat(encoded_row, :separator) FROM dated) AS BLOB)
