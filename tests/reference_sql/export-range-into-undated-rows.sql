-- Then a batch reads the range (into undated rows); row_expression is a format's row-*.sql.
-- Parameters besides :separator: {"org_id": "org-1", "limit": 2001, "ahead": 0, "after_id": "sid-1", "after_value": "2025-03-01T10:00:00Z", "until_id": "sid-9"}
WITH dated AS MATERIALIZED (
    SELECT row_expression AS encoded_row, "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND ("created_at", id) < (:after_value, :after_id)
    ORDER BY "created_at" DESC, id DESC
    LIMIT :limit + :ahead
), undated AS MATERIALIZED (
    SELECT row_expression AS encoded_row, "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND "created_at" IS NULL AND id >= :until_id
    ORDER BY id DESC
    LIMIT :limit + :ahead - (SELECT count(*) FROM dated)
)
SELECT (SELECT count(*) FROM dated) + (SELECT count(*) FROM undated),
CASE
    WHEN min((SELECT count(*) FROM dated) + (SELECT count(*) FROM undated), :limit) <= (SELECT count(*) FROM dated) THEN (
        SELECT sort_value
        FROM dated
        LIMIT 1 OFFSET min((SELECT count(*) FROM dated) + (SELECT count(*) FROM undated), :limit) - 1
    )
    ELSE (
        SELECT sort_value
        FROM undated
        LIMIT 1 OFFSET min((SELECT count(*) FROM dated) + (SELECT count(*) FROM undated), :limit) - (SELECT count(*) FROM dated) - 1
    )
END,
CASE
    WHEN min((SELECT count(*) FROM dated) + (SELECT count(*) FROM undated), :limit) <= (SELECT count(*) FROM dated) THEN (
        SELECT id
        FROM dated
        LIMIT 1 OFFSET min((SELECT count(*) FROM dated) + (SELECT count(*) FROM undated), :limit) - 1
    )
    ELSE (
        SELECT id
        FROM undated
        LIMIT 1 OFFSET min((SELECT count(*) FROM dated) + (SELECT count(*) FROM undated), :limit) - (SELECT count(*) FROM dated) - 1
    )
END, CAST((SELECT group_concat(encoded_row, :separator) FROM dated) AS BLOB), CAST((SELECT group_concat(encoded_row, :separator) FROM undated) AS BLOB)
