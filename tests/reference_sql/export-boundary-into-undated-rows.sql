-- A parallel export finds where its next range ends (into undated rows).
-- Parameters: {"org_id": "org-1", "step": 2000, "after_id": "sid-1", "after_value": "2025-03-01T10:00:00Z"}
SELECT *
FROM (
    SELECT "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND ("created_at", id) < (:after_value, :after_id)
    ORDER BY "created_at" DESC, id DESC
    LIMIT 1 OFFSET :step - 1
) UNION ALL
SELECT *
FROM (
    SELECT "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL AND "created_at" IS NULL
    ORDER BY id DESC
    LIMIT 1 OFFSET :step - 1 - (
        SELECT count(*)
        FROM (
            SELECT 1
            FROM "sellers"
            WHERE org_id = :org_id AND deleted_at IS NULL AND ("created_at", id) < (:after_value, :after_id)
            LIMIT :step
        )
    )
)
LIMIT 1
