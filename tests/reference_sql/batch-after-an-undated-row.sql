-- The batch query, after an undated row; row_expression is a format's row-*.sql.
-- Parameters besides :separator: {"org_id": "org-1", "limit": 2000, "ahead": 0, "after_id": "sid-1"}
WITH undated AS MATERIALIZED (
    SELECT row_expression AS encoded_row, "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND "created_at" IS NULL AND id < :after_id
    ORDER BY id DESC
    LIMIT :limit + :ahead
)
SELECT (SELECT count(*) FROM undated), (
    SELECT sort_value
    FROM undated
    LIMIT 1 OFFSET min((SELECT count(*) FROM undated), :limit) - 1
), (
    SELECT id
    FROM undated
    LIMIT 1 OFFSET min((SELECT count(*) FROM undated), :limit) - 1
), CAST((SELECT group_concat(encoded_row, :separator) FROM undated) AS BLOB)
