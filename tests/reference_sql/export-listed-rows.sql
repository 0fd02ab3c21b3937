-- A searched export's first query: the organisation's matching rows, in order.
-- Parameters: {"org_id": "org-1", "rowids": "[3,5,8]"}
SELECT group_concat(rowid)
FROM (
    SELECT rowid
    FROM "sellers"
    WHERE +org_id = :org_id AND deleted_at IS NULL AND rowid IN (SELECT value FROM json_each(:rowids))
    ORDER BY "feedback_percent" ASC NULLS LAST, id ASC
)
