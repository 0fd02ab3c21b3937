-- How one row becomes its ndjson bytes (default settings).
CAST(printf('{"display_name":%s,"normalized_name":%s,"platform":%s,"platform_id":%s,"times_seen":%s,"feedback_percent":%s,"feedback_count":%s,"flagged":%s,"created_at":%s}
',
        CASE typeof(display_name)
            WHEN 'text' THEN json_quote(display_name)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(display_name AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(display_name) >= 1e-4 AND abs(display_name) < 1e15 AND CAST(CAST(display_name AS TEXT) AS REAL) = display_name THEN CAST(display_name AS TEXT)
                ELSE seller_export_real_text(display_name)
            END
            ELSE json_quote(CAST(display_name AS TEXT))
        END,
        CASE typeof(normalized_name)
            WHEN 'text' THEN json_quote(normalized_name)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(normalized_name AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(normalized_name) >= 1e-4 AND abs(normalized_name) < 1e15 AND CAST(CAST(normalized_name AS TEXT) AS REAL) = normalized_name THEN CAST(normalized_name AS TEXT)
                ELSE seller_export_real_text(normalized_name)
            END
            ELSE json_quote(CAST(normalized_name AS TEXT))
        END,
        CASE typeof(platform)
            WHEN 'text' THEN json_quote(platform)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(platform AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(platform) >= 1e-4 AND abs(platform) < 1e15 AND CAST(CAST(platform AS TEXT) AS REAL) = platform THEN CAST(platform AS TEXT)
                ELSE seller_export_real_text(platform)
            END
            ELSE json_quote(CAST(platform AS TEXT))
        END,
        CASE typeof(platform_id)
            WHEN 'text' THEN json_quote(platform_id)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(platform_id AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(platform_id) >= 1e-4 AND abs(platform_id) < 1e15 AND CAST(CAST(platform_id AS TEXT) AS REAL) = platform_id THEN CAST(platform_id AS TEXT)
                ELSE seller_export_real_text(platform_id)
            END
            ELSE json_quote(CAST(platform_id AS TEXT))
        END,
        CASE typeof(times_seen)
            WHEN 'text' THEN json_quote(times_seen)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(times_seen AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(times_seen) >= 1e-4 AND abs(times_seen) < 1e15 AND CAST(CAST(times_seen AS TEXT) AS REAL) = times_seen THEN CAST(times_seen AS TEXT)
                ELSE seller_export_real_text(times_seen)
            END
            ELSE json_quote(CAST(times_seen AS TEXT))
        END,
        CASE typeof(feedback_percent)
            WHEN 'text' THEN json_quote(feedback_percent)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(feedback_percent AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                ELSE seller_export_real_text(feedback_percent)
            END
            ELSE json_quote(CAST(feedback_percent AS TEXT))
        END,
        CASE typeof(feedback_count)
            WHEN 'text' THEN json_quote(feedback_count)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(feedback_count AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(feedback_count) >= 1e-4 AND abs(feedback_count) < 1e15 AND CAST(CAST(feedback_count AS TEXT) AS REAL) = feedback_count THEN CAST(feedback_count AS TEXT)
                ELSE seller_export_real_text(feedback_count)
            END
            ELSE json_quote(CAST(feedback_count AS TEXT))
        END, CASE WHEN flagged IS NULL THEN 'null' WHEN flagged THEN 'true' ELSE 'false' END,
        CASE typeof(created_at)
            WHEN 'text' THEN json_quote(created_at)
            WHEN 'null' THEN 'null'
            WHEN 'integer' THEN CAST(created_at AS TEXT)
            WHEN 'real' THEN
            CASE
                WHEN abs(created_at) >= 1e-4 AND abs(created_at) < 1e15 AND CAST(CAST(created_at AS TEXT) AS REAL) = created_at THEN CAST(created_at AS TEXT)
                ELSE seller_export_real_text(created_at)
            END
            ELSE json_quote(CAST(created_at AS TEXT))
        END
    ) AS BLOB
)
