-- How one row becomes its arrow_csv bytes (default settings).
CASE
    WHEN instr(display_name, char(0)) OR instr(normalized_name, char(0)) OR instr(platform, char(0)) OR instr(platform_id, char(0)) OR instr(created_at, char(0)) THEN CAST((
            CASE typeof(display_name)
                WHEN 'text' THEN
                CASE
                    WHEN instr(display_name, '"') OR instr(display_name, ',') OR instr(display_name, char(10)) OR instr(display_name, char(13)) OR display_name = '' THEN '"' || replace(display_name, '"', '""') || '"'
                    ELSE display_name
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(display_name AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(display_name) >= 1e-4 AND abs(display_name) < 1e15 AND CAST(CAST(display_name AS TEXT) AS REAL) = display_name THEN CAST(display_name AS TEXT)
                    ELSE seller_export_real_text(display_name)
                END
                ELSE
                CASE
                    WHEN instr(CAST(display_name AS TEXT), '"') OR instr(CAST(display_name AS TEXT), ',') OR instr(CAST(display_name AS TEXT), char(10)) OR instr(CAST(display_name AS TEXT), char(13)) OR CAST(display_name AS TEXT) = '' THEN '"' || replace(CAST(display_name AS TEXT), '"', '""') || '"'
                    ELSE CAST(display_name AS TEXT)
                END
            END
        ) || ',' || (
            CASE typeof(normalized_name)
                WHEN 'text' THEN
                CASE
                    WHEN instr(normalized_name, '"') OR instr(normalized_name, ',') OR instr(normalized_name, char(10)) OR instr(normalized_name, char(13)) OR normalized_name = '' THEN '"' || replace(normalized_name, '"', '""') || '"'
                    ELSE normalized_name
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(normalized_name AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(normalized_name) >= 1e-4 AND abs(normalized_name) < 1e15 AND CAST(CAST(normalized_name AS TEXT) AS REAL) = normalized_name THEN CAST(normalized_name AS TEXT)
                    ELSE seller_export_real_text(normalized_name)
                END
                ELSE
                CASE
                    WHEN instr(CAST(normalized_name AS TEXT), '"') OR instr(CAST(normalized_name AS TEXT), ',') OR instr(CAST(normalized_name AS TEXT), char(10)) OR instr(CAST(normalized_name AS TEXT), char(13)) OR CAST(normalized_name AS TEXT) = '' THEN '"' || replace(CAST(normalized_name AS TEXT), '"', '""') || '"'
                    ELSE CAST(normalized_name AS TEXT)
                END
            END
        ) || ',' || (
            CASE typeof(platform)
                WHEN 'text' THEN
                CASE
                    WHEN instr(platform, '"') OR instr(platform, ',') OR instr(platform, char(10)) OR instr(platform, char(13)) OR platform = '' THEN '"' || replace(platform, '"', '""') || '"'
                    ELSE platform
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(platform AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(platform) >= 1e-4 AND abs(platform) < 1e15 AND CAST(CAST(platform AS TEXT) AS REAL) = platform THEN CAST(platform AS TEXT)
                    ELSE seller_export_real_text(platform)
                END
                ELSE
                CASE
                    WHEN instr(CAST(platform AS TEXT), '"') OR instr(CAST(platform AS TEXT), ',') OR instr(CAST(platform AS TEXT), char(10)) OR instr(CAST(platform AS TEXT), char(13)) OR CAST(platform AS TEXT) = '' THEN '"' || replace(CAST(platform AS TEXT), '"', '""') || '"'
                    ELSE CAST(platform AS TEXT)
                END
            END
        ) || ',' || (
            CASE typeof(platform_id)
                WHEN 'text' THEN
                CASE
                    WHEN instr(platform_id, '"') OR instr(platform_id, ',') OR instr(platform_id, char(10)) OR instr(platform_id, char(13)) OR platform_id = '' THEN '"' || replace(platform_id, '"', '""') || '"'
                    ELSE platform_id
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(platform_id AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(platform_id) >= 1e-4 AND abs(platform_id) < 1e15 AND CAST(CAST(platform_id AS TEXT) AS REAL) = platform_id THEN CAST(platform_id AS TEXT)
                    ELSE seller_export_real_text(platform_id)
                END
                ELSE
                CASE
                    WHEN instr(CAST(platform_id AS TEXT), '"') OR instr(CAST(platform_id AS TEXT), ',') OR instr(CAST(platform_id AS TEXT), char(10)) OR instr(CAST(platform_id AS TEXT), char(13)) OR CAST(platform_id AS TEXT) = '' THEN '"' || replace(CAST(platform_id AS TEXT), '"', '""') || '"'
                    ELSE CAST(platform_id AS TEXT)
                END
            END
        ) || ',' || (
            CASE typeof(times_seen)
                WHEN 'text' THEN
                CASE
                    WHEN instr(times_seen, '"') OR instr(times_seen, ',') OR instr(times_seen, char(10)) OR instr(times_seen, char(13)) OR times_seen = '' THEN '"' || replace(times_seen, '"', '""') || '"'
                    ELSE times_seen
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(times_seen AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(times_seen) >= 1e-4 AND abs(times_seen) < 1e15 AND CAST(CAST(times_seen AS TEXT) AS REAL) = times_seen THEN CAST(times_seen AS TEXT)
                    ELSE seller_export_real_text(times_seen)
                END
                ELSE
                CASE
                    WHEN instr(CAST(times_seen AS TEXT), '"') OR instr(CAST(times_seen AS TEXT), ',') OR instr(CAST(times_seen AS TEXT), char(10)) OR instr(CAST(times_seen AS TEXT), char(13)) OR CAST(times_seen AS TEXT) = '' THEN '"' || replace(CAST(times_seen AS TEXT), '"', '""') || '"'
                    ELSE CAST(times_seen AS TEXT)
                END
            END
        ) || ',' || (
            CASE typeof(feedback_percent)
                WHEN 'text' THEN
                CASE
                    WHEN instr(feedback_percent, '"') OR instr(feedback_percent, ',') OR instr(feedback_percent, char(10)) OR instr(feedback_percent, char(13)) OR feedback_percent = '' THEN '"' || replace(feedback_percent, '"', '""') || '"'
                    ELSE feedback_percent
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(feedback_percent AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                    ELSE seller_export_real_text(feedback_percent)
                END
                ELSE
                CASE
                    WHEN instr(CAST(feedback_percent AS TEXT), '"') OR instr(CAST(feedback_percent AS TEXT), ',') OR instr(CAST(feedback_percent AS TEXT), char(10)) OR instr(CAST(feedback_percent AS TEXT), char(13)) OR CAST(feedback_percent AS TEXT) = '' THEN '"' || replace(CAST(feedback_percent AS TEXT), '"', '""') || '"'
                    ELSE CAST(feedback_percent AS TEXT)
                END
            END
        ) || ',' || (
            CASE typeof(feedback_count)
                WHEN 'text' THEN
                CASE
                    WHEN instr(feedback_count, '"') OR instr(feedback_count, ',') OR instr(feedback_count, char(10)) OR instr(feedback_count, char(13)) OR feedback_count = '' THEN '"' || replace(feedback_count, '"', '""') || '"'
                    ELSE feedback_count
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(feedback_count AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(feedback_count) >= 1e-4 AND abs(feedback_count) < 1e15 AND CAST(CAST(feedback_count AS TEXT) AS REAL) = feedback_count THEN CAST(feedback_count AS TEXT)
                    ELSE seller_export_real_text(feedback_count)
                END
                ELSE
                CASE
                    WHEN instr(CAST(feedback_count AS TEXT), '"') OR instr(CAST(feedback_count AS TEXT), ',') OR instr(CAST(feedback_count AS TEXT), char(10)) OR instr(CAST(feedback_count AS TEXT), char(13)) OR CAST(feedback_count AS TEXT) = '' THEN '"' || replace(CAST(feedback_count AS TEXT), '"', '""') || '"'
                    ELSE CAST(feedback_count AS TEXT)
                END
            END
        ) || ',' || (CASE WHEN flagged IS NULL THEN '' WHEN flagged THEN 'true' ELSE 'false' END) || ',' || (
            CASE typeof(created_at)
                WHEN 'text' THEN
                CASE
                    WHEN instr(created_at, '"') OR instr(created_at, ',') OR instr(created_at, char(10)) OR instr(created_at, char(13)) OR created_at = '' THEN '"' || replace(created_at, '"', '""') || '"'
                    ELSE created_at
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(created_at AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(created_at) >= 1e-4 AND abs(created_at) < 1e15 AND CAST(CAST(created_at AS TEXT) AS REAL) = created_at THEN CAST(created_at AS TEXT)
                    ELSE seller_export_real_text(created_at)
                END
                ELSE
                CASE
                    WHEN instr(CAST(created_at AS TEXT), '"') OR instr(CAST(created_at AS TEXT), ',') OR instr(CAST(created_at AS TEXT), char(10)) OR instr(CAST(created_at AS TEXT), char(13)) OR CAST(created_at AS TEXT) = '' THEN '"' || replace(CAST(created_at AS TEXT), '"', '""') || '"'
                    ELSE CAST(created_at AS TEXT)
                END
            END
        ) || char(13, 10) AS BLOB
    )
    ELSE CAST(printf('%s,%s,%s,%s,%s,%s,%s,%s,%s' || char(13, 10) || '',
            CASE typeof(display_name)
                WHEN 'text' THEN
                CASE
                    WHEN display_name GLOB '*' || '"' || '*' OR display_name GLOB '*' || ',' || '*' OR display_name GLOB '*' || char(10) || '*' OR display_name GLOB '*' || char(13) || '*' OR display_name = '' THEN '"' || replace(display_name, '"', '""') || '"'
                    ELSE display_name
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(display_name AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(display_name) >= 1e-4 AND abs(display_name) < 1e15 AND CAST(CAST(display_name AS TEXT) AS REAL) = display_name THEN CAST(display_name AS TEXT)
                    ELSE seller_export_real_text(display_name)
                END
                ELSE
                CASE
                    WHEN CAST(display_name AS TEXT) GLOB '*' || '"' || '*' OR CAST(display_name AS TEXT) GLOB '*' || ',' || '*' OR CAST(display_name AS TEXT) GLOB '*' || char(10) || '*' OR CAST(display_name AS TEXT) GLOB '*' || char(13) || '*' OR CAST(display_name AS TEXT) = '' THEN '"' || replace(CAST(display_name AS TEXT), '"', '""') || '"'
                    ELSE CAST(display_name AS TEXT)
                END
            END,
            CASE typeof(normalized_name)
                WHEN 'text' THEN
                CASE
                    WHEN normalized_name GLOB '*' || '"' || '*' OR normalized_name GLOB '*' || ',' || '*' OR normalized_name GLOB '*' || char(10) || '*' OR normalized_name GLOB '*' || char(13) || '*' OR normalized_name = '' THEN '"' || replace(normalized_name, '"', '""') || '"'
                    ELSE normalized_name
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(normalized_name AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(normalized_name) >= 1e-4 AND abs(normalized_name) < 1e15 AND CAST(CAST(normalized_name AS TEXT) AS REAL) = normalized_name THEN CAST(normalized_name AS TEXT)
                    ELSE seller_export_real_text(normalized_name)
                END
                ELSE
                CASE
                    WHEN CAST(normalized_name AS TEXT) GLOB '*' || '"' || '*' OR CAST(normalized_name AS TEXT) GLOB '*' || ',' || '*' OR CAST(normalized_name AS TEXT) GLOB '*' || char(10) || '*' OR CAST(normalized_name AS TEXT) GLOB '*' || char(13) || '*' OR CAST(normalized_name AS TEXT) = '' THEN '"' || replace(CAST(normalized_name AS TEXT), '"', '""') || '"'
                    ELSE CAST(normalized_name AS TEXT)
                END
            END,
            CASE typeof(platform)
                WHEN 'text' THEN
                CASE
                    WHEN platform GLOB '*' || '"' || '*' OR platform GLOB '*' || ',' || '*' OR platform GLOB '*' || char(10) || '*' OR platform GLOB '*' || char(13) || '*' OR platform = '' THEN '"' || replace(platform, '"', '""') || '"'
                    ELSE platform
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(platform AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(platform) >= 1e-4 AND abs(platform) < 1e15 AND CAST(CAST(platform AS TEXT) AS REAL) = platform THEN CAST(platform AS TEXT)
                    ELSE seller_export_real_text(platform)
                END
                ELSE
                CASE
                    WHEN CAST(platform AS TEXT) GLOB '*' || '"' || '*' OR CAST(platform AS TEXT) GLOB '*' || ',' || '*' OR CAST(platform AS TEXT) GLOB '*' || char(10) || '*' OR CAST(platform AS TEXT) GLOB '*' || char(13) || '*' OR CAST(platform AS TEXT) = '' THEN '"' || replace(CAST(platform AS TEXT), '"', '""') || '"'
                    ELSE CAST(platform AS TEXT)
                END
            END,
            CASE typeof(platform_id)
                WHEN 'text' THEN
                CASE
                    WHEN platform_id GLOB '*' || '"' || '*' OR platform_id GLOB '*' || ',' || '*' OR platform_id GLOB '*' || char(10) || '*' OR platform_id GLOB '*' || char(13) || '*' OR platform_id = '' THEN '"' || replace(platform_id, '"', '""') || '"'
                    ELSE platform_id
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(platform_id AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(platform_id) >= 1e-4 AND abs(platform_id) < 1e15 AND CAST(CAST(platform_id AS TEXT) AS REAL) = platform_id THEN CAST(platform_id AS TEXT)
                    ELSE seller_export_real_text(platform_id)
                END
                ELSE
                CASE
                    WHEN CAST(platform_id AS TEXT) GLOB '*' || '"' || '*' OR CAST(platform_id AS TEXT) GLOB '*' || ',' || '*' OR CAST(platform_id AS TEXT) GLOB '*' || char(10) || '*' OR CAST(platform_id AS TEXT) GLOB '*' || char(13) || '*' OR CAST(platform_id AS TEXT) = '' THEN '"' || replace(CAST(platform_id AS TEXT), '"', '""') || '"'
                    ELSE CAST(platform_id AS TEXT)
                END
            END,
            CASE typeof(times_seen)
                WHEN 'text' THEN
                CASE
                    WHEN times_seen GLOB '*' || '"' || '*' OR times_seen GLOB '*' || ',' || '*' OR times_seen GLOB '*' || char(10) || '*' OR times_seen GLOB '*' || char(13) || '*' OR times_seen = '' THEN '"' || replace(times_seen, '"', '""') || '"'
                    ELSE times_seen
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(times_seen AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(times_seen) >= 1e-4 AND abs(times_seen) < 1e15 AND CAST(CAST(times_seen AS TEXT) AS REAL) = times_seen THEN CAST(times_seen AS TEXT)
                    ELSE seller_export_real_text(times_seen)
                END
                ELSE
                CASE
                    WHEN CAST(times_seen AS TEXT) GLOB '*' || '"' || '*' OR CAST(times_seen AS TEXT) GLOB '*' || ',' || '*' OR CAST(times_seen AS TEXT) GLOB '*' || char(10) || '*' OR CAST(times_seen AS TEXT) GLOB '*' || char(13) || '*' OR CAST(times_seen AS TEXT) = '' THEN '"' || replace(CAST(times_seen AS TEXT), '"', '""') || '"'
                    ELSE CAST(times_seen AS TEXT)
                END
            END,
            CASE typeof(feedback_percent)
                WHEN 'text' THEN
                CASE
                    WHEN feedback_percent GLOB '*' || '"' || '*' OR feedback_percent GLOB '*' || ',' || '*' OR feedback_percent GLOB '*' || char(10) || '*' OR feedback_percent GLOB '*' || char(13) || '*' OR feedback_percent = '' THEN '"' || replace(feedback_percent, '"', '""') || '"'
                    ELSE feedback_percent
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(feedback_percent AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                    ELSE seller_export_real_text(feedback_percent)
                END
                ELSE
                CASE
                    WHEN CAST(feedback_percent AS TEXT) GLOB '*' || '"' || '*' OR CAST(feedback_percent AS TEXT) GLOB '*' || ',' || '*' OR CAST(feedback_percent AS TEXT) GLOB '*' || char(10) || '*' OR CAST(feedback_percent AS TEXT) GLOB '*' || char(13) || '*' OR CAST(feedback_percent AS TEXT) = '' THEN '"' || replace(CAST(feedback_percent AS TEXT), '"', '""') || '"'
                    ELSE CAST(feedback_percent AS TEXT)
                END
            END,
            CASE typeof(feedback_count)
                WHEN 'text' THEN
                CASE
                    WHEN feedback_count GLOB '*' || '"' || '*' OR feedback_count GLOB '*' || ',' || '*' OR feedback_count GLOB '*' || char(10) || '*' OR feedback_count GLOB '*' || char(13) || '*' OR feedback_count = '' THEN '"' || replace(feedback_count, '"', '""') || '"'
                    ELSE feedback_count
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(feedback_count AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(feedback_count) >= 1e-4 AND abs(feedback_count) < 1e15 AND CAST(CAST(feedback_count AS TEXT) AS REAL) = feedback_count THEN CAST(feedback_count AS TEXT)
                    ELSE seller_export_real_text(feedback_count)
                END
                ELSE
                CASE
                    WHEN CAST(feedback_count AS TEXT) GLOB '*' || '"' || '*' OR CAST(feedback_count AS TEXT) GLOB '*' || ',' || '*' OR CAST(feedback_count AS TEXT) GLOB '*' || char(10) || '*' OR CAST(feedback_count AS TEXT) GLOB '*' || char(13) || '*' OR CAST(feedback_count AS TEXT) = '' THEN '"' || replace(CAST(feedback_count AS TEXT), '"', '""') || '"'
                    ELSE CAST(feedback_count AS TEXT)
                END
            END, CASE WHEN flagged IS NULL THEN '' WHEN flagged THEN 'true' ELSE 'false' END,
            CASE typeof(created_at)
                WHEN 'text' THEN
                CASE
                    WHEN created_at GLOB '*' || '"' || '*' OR created_at GLOB '*' || ',' || '*' OR created_at GLOB '*' || char(10) || '*' OR created_at GLOB '*' || char(13) || '*' OR created_at = '' THEN '"' || replace(created_at, '"', '""') || '"'
                    ELSE created_at
                END
                WHEN 'null' THEN ''
                WHEN 'integer' THEN CAST(created_at AS TEXT)
                WHEN 'real' THEN
                CASE
                    WHEN abs(created_at) >= 1e-4 AND abs(created_at) < 1e15 AND CAST(CAST(created_at AS TEXT) AS REAL) = created_at THEN CAST(created_at AS TEXT)
                    ELSE seller_export_real_text(created_at)
                END
                ELSE
                CASE
                    WHEN CAST(created_at AS TEXT) GLOB '*' || '"' || '*' OR CAST(created_at AS TEXT) GLOB '*' || ',' || '*' OR CAST(created_at AS TEXT) GLOB '*' || char(10) || '*' OR CAST(created_at AS TEXT) GLOB '*' || char(13) || '*' OR CAST(created_at AS TEXT) = '' THEN '"' || replace(CAST(created_at AS TEXT), '"', '""') || '"'
                    ELSE CAST(created_at AS TEXT)
                END
            END
        ) AS BLOB
    )
END
