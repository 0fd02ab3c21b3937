-- How one row of a STRICT table becomes its csv bytes (default settings): no
-- dispatch on each value's storage class, which the table fixes.
CASE
    WHEN instr(display_name, char(0)) OR instr(normalized_name, char(0)) OR instr(platform, char(0)) OR instr(platform_id, char(0)) OR instr(created_at, char(0)) THEN CAST((ifnull(
                CASE
                    WHEN instr(display_name, '"') OR instr(display_name, ',') OR instr(display_name, char(10)) OR instr(display_name, char(13)) THEN '"' || replace(
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
                END, ''
            )
        ) || ',' || (ifnull(
                CASE
                    WHEN instr(normalized_name, '"') OR instr(normalized_name, ',') OR instr(normalized_name, char(10)) OR instr(normalized_name, char(13)) THEN '"' || replace(
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
                END, ''
            )
        ) || ',' || (ifnull(
                CASE
                    WHEN instr(platform, '"') OR instr(platform, ',') OR instr(platform, char(10)) OR instr(platform, char(13)) THEN '"' || replace(
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
                END, ''
            )
        ) || ',' || (ifnull(
                CASE
                    WHEN instr(platform_id, '"') OR instr(platform_id, ',') OR instr(platform_id, char(10)) OR instr(platform_id, char(13)) THEN '"' || replace(
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
                END, ''
            )
        ) || ',' || (ifnull(times_seen, '')) || ',' || (
            CASE
                WHEN feedback_percent IS NULL THEN ''
                ELSE
                CASE
                    WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                    ELSE seller_export_real_text(feedback_percent)
                END
            END
        ) || ',' || (ifnull(feedback_count, '')) || ',' || (CASE WHEN flagged IS NULL THEN '' WHEN flagged THEN 'true' ELSE 'false' END) || ',' || (ifnull(
                CASE
                    WHEN instr(created_at, '"') OR instr(created_at, ',') OR instr(created_at, char(10)) OR instr(created_at, char(13)) THEN '"' || replace(
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
                END, ''
            )
        ) || char(13, 10) AS BLOB
    )
    ELSE CAST(printf('%s,%s,%s,%s,%s,%s,%s,%s,%s' || char(13, 10) || '',
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
END
