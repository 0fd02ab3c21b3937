-- How one row of a mirror made by the plugin becomes its csv bytes (default
-- settings): its STRICT table fixes each value's storage class, and its CHECKs keep
-- NUL out, so neither is checked here.
CAST(printf('%s,%s,%s,%s,%s,%s,%s,%s,%s' || char(13, 10) || '',
        CASE
            WHEN display_name GLOB '*' || '"' || '*' OR display_name GLOB '*' || ',' || '*' OR display_name GLOB '*' || char(10) || '*' OR display_name GLOB '*' || char(13) || '*' THEN '"' || replace(
                CASE
                    WHEN display_name GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || display_name
                    ELSE display_name
                END, '"', '""'
            ) || '"'
            ELSE
            CASE
                WHEN display_name GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || display_name
                ELSE display_name
            END
        END,
        CASE
            WHEN normalized_name GLOB '*' || '"' || '*' OR normalized_name GLOB '*' || ',' || '*' OR normalized_name GLOB '*' || char(10) || '*' OR normalized_name GLOB '*' || char(13) || '*' THEN '"' || replace(
                CASE
                    WHEN normalized_name GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || normalized_name
                    ELSE normalized_name
                END, '"', '""'
            ) || '"'
            ELSE
            CASE
                WHEN normalized_name GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || normalized_name
                ELSE normalized_name
            END
        END,
        CASE
            WHEN platform GLOB '*' || '"' || '*' OR platform GLOB '*' || ',' || '*' OR platform GLOB '*' || char(10) || '*' OR platform GLOB '*' || char(13) || '*' THEN '"' || replace(
                CASE
                    WHEN platform GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || platform
                    ELSE platform
                END, '"', '""'
            ) || '"'
            ELSE
            CASE
                WHEN platform GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || platform
                ELSE platform
            END
        END,
        CASE
            WHEN platform_id GLOB '*' || '"' || '*' OR platform_id GLOB '*' || ',' || '*' OR platform_id GLOB '*' || char(10) || '*' OR platform_id GLOB '*' || char(13) || '*' THEN '"' || replace(
                CASE
                    WHEN platform_id GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || platform_id
                    ELSE platform_id
                END, '"', '""'
            ) || '"'
            ELSE
            CASE
                WHEN platform_id GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || platform_id
                ELSE platform_id
            END
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
            WHEN created_at GLOB '*' || '"' || '*' OR created_at GLOB '*' || ',' || '*' OR created_at GLOB '*' || char(10) || '*' OR created_at GLOB '*' || char(13) || '*' THEN '"' || replace(
                CASE
                    WHEN created_at GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || created_at
                    ELSE created_at
                END, '"', '""'
            ) || '"'
            ELSE
            CASE
                WHEN created_at GLOB '[=+@' || char(9, 13) || '-]*' THEN '''' || created_at
                ELSE created_at
            END
        END
    ) AS BLOB
)
