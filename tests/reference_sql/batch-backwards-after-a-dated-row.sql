-- The batch query, backwards after a dated row; row_expression is a format's row-*.sql.
-- Parameters besides :separator: {"org_id": "org-1", "limit": 2000, "ahead": 0, "after_id": "sid-1", "after_value": "2025-03-01T10:00:00Z"}
WITH dated AS MATERIALIZED (
    SELECT row_expression AS encoded_row, "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND ("created_at", id) > (:after_value, :after_id)
    ORDER BY "created_at" ASC, id ASC
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
