-- How one row of a mirror made by the plugin becomes its arrow_csv bytes (default
-- settings): its STRICT table fixes each value's storage class, and its CHECKs keep
-- NUL out, so neither is checked here.
CAST(printf('%s,%s,%s,%s,%s,%s,%s,%s,%s' || char(13, 10) || '',
        CASE
            WHEN display_name GLOB '*' || '"' || '*' OR display_name GLOB '*' || ',' || '*' OR display_name GLOB '*' || char(10) || '*' OR display_name GLOB '*' || char(13) || '*' OR display_name = '' THEN '"' || replace(display_name, '"', '""') || '"'
            ELSE display_name
        END,
        CASE
            WHEN normalized_name GLOB '*' || '"' || '*' OR normalized_name GLOB '*' || ',' || '*' OR normalized_name GLOB '*' || char(10) || '*' OR normalized_name GLOB '*' || char(13) || '*' OR normalized_name = '' THEN '"' || replace(normalized_name, '"', '""') || '"'
            ELSE normalized_name
        END,
        CASE
            WHEN platform GLOB '*' || '"' || '*' OR platform GLOB '*' || ',' || '*' OR platform GLOB '*' || char(10) || '*' OR platform GLOB '*' || char(13) || '*' OR platform = '' THEN '"' || replace(platform, '"', '""') || '"'
            ELSE platform
        END,
        CASE
            WHEN platform_id GLOB '*' || '"' || '*' OR platform_id GLOB '*' || ',' || '*' OR platform_id GLOB '*' || char(10) || '*' OR platform_id GLOB '*' || char(13) || '*' OR platform_id = '' THEN '"' || replace(platform_id, '"', '""') || '"'
            ELSE platform_id
        END, times_seen,
        CASE
            WHEN feedback_percent IS NULL THEN NULL
            ELSE
            CASE
                WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                ELSE seller_export_real_text(feedback_percent)
            END
        END, feedback_count, CASE WHEN flagged IS NULL THEN '' WHEN flagged THEN 'true' ELSE 'false' END,
        CASE
            WHEN created_at GLOB '*' || '"' || '*' OR created_at GLOB '*' || ',' || '*' OR created_at GLOB '*' || char(10) || '*' OR created_at GLOB '*' || char(13) || '*' OR created_at = '' THEN '"' || replace(created_at, '"', '""') || '"'
            ELSE created_at
        END
    ) AS BLOB
)
