-- A parallel export finds where its next range ends (first).
-- Parameters: {"org_id": "org-1", "step": 2000}
SELECT *
FROM (
    SELECT "created_at" AS sort_value, id
    FROM "sellers"
    WHERE org_id = :org_id AND deleted_at IS NULL
    ORDER BY "created_at" DESC, id DESC
    LIMIT 1 OFFSET :step - 1
)
LIMIT 1
