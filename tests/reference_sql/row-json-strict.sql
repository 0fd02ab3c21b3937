-- How one row of a mirror made by the plugin becomes its json bytes (default
-- settings): its STRICT table fixes each value's storage class, and its CHECKs keep
-- NUL out, so neither is checked here.
CAST(printf('{"display_name":%s,"normalized_name":%s,"platform":%s,"platform_id":%s,"times_seen":%s,"feedback_percent":%s,"feedback_count":%s,"flagged":%s,"created_at":%s}', json_quote(display_name), json_quote(normalized_name), json_quote(platform), json_quote(platform_id), ifnull(times_seen, 'null'),
        CASE
            WHEN feedback_percent IS NULL THEN 'null'
            ELSE
            CASE
                WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                ELSE seller_export_real_text(feedback_percent)
            END
        END, ifnull(feedback_count, 'null'), CASE WHEN flagged IS NULL THEN 'null' WHEN flagged THEN 'true' ELSE 'false' END, json_quote(created_at)
    ) AS BLOB
)
