-- Then each batch of that list; row_expression is a format's row-*.sql.
-- Parameters besides :separator: {"org_id": "org-1", "rowids": "[8,3]"}
WITH batch AS MATERIALIZED (
    SELECT row_expression AS encoded_row
    FROM (SELECT value AS listed_rowid FROM json_each(:rowids)) CROSS JOIN "sellers" ON "sellers".rowid = listed_rowid
    WHERE org_id = :org_id AND deleted_at IS NULL
)
SELECT count(*), CAST(group_concat(encoded_row, :separator) AS BLOB)
FROM batch
