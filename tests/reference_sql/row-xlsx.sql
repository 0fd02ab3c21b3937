-- How one row becomes its xlsx bytes (default settings).
CAST(printf('<row>%s%s%s%s%s%s%s%s%s</row>',
        CASE typeof(display_name)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(display_name, '&') OR instr(display_name, '<') OR instr(display_name, '>') OR display_name GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR display_name GLOB '*_x*' OR instr(display_name, char(0)) THEN seller_export_xlsx_text(display_name)
                ELSE display_name
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || display_name || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(display_name) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(display_name) >= 1e-4 AND abs(display_name) < 1e15 AND CAST(CAST(display_name AS TEXT) AS REAL) = display_name THEN CAST(display_name AS TEXT)
                    ELSE seller_export_real_text(display_name)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(display_name) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(display_name AS TEXT), '&') OR instr(CAST(display_name AS TEXT), '<') OR instr(CAST(display_name AS TEXT), '>') OR CAST(display_name AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(display_name AS TEXT) GLOB '*_x*' OR instr(CAST(display_name AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(display_name AS TEXT))
                ELSE CAST(display_name AS TEXT)
            END || '</t></is></c>'
        END,
        CASE typeof(normalized_name)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(normalized_name, '&') OR instr(normalized_name, '<') OR instr(normalized_name, '>') OR normalized_name GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR normalized_name GLOB '*_x*' OR instr(normalized_name, char(0)) THEN seller_export_xlsx_text(normalized_name)
                ELSE normalized_name
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || normalized_name || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(normalized_name) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(normalized_name) >= 1e-4 AND abs(normalized_name) < 1e15 AND CAST(CAST(normalized_name AS TEXT) AS REAL) = normalized_name THEN CAST(normalized_name AS TEXT)
                    ELSE seller_export_real_text(normalized_name)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(normalized_name) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(normalized_name AS TEXT), '&') OR instr(CAST(normalized_name AS TEXT), '<') OR instr(CAST(normalized_name AS TEXT), '>') OR CAST(normalized_name AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(normalized_name AS TEXT) GLOB '*_x*' OR instr(CAST(normalized_name AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(normalized_name AS TEXT))
                ELSE CAST(normalized_name AS TEXT)
            END || '</t></is></c>'
        END,
        CASE typeof(platform)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(platform, '&') OR instr(platform, '<') OR instr(platform, '>') OR platform GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR platform GLOB '*_x*' OR instr(platform, char(0)) THEN seller_export_xlsx_text(platform)
                ELSE platform
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || platform || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(platform) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(platform) >= 1e-4 AND abs(platform) < 1e15 AND CAST(CAST(platform AS TEXT) AS REAL) = platform THEN CAST(platform AS TEXT)
                    ELSE seller_export_real_text(platform)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(platform) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(platform AS TEXT), '&') OR instr(CAST(platform AS TEXT), '<') OR instr(CAST(platform AS TEXT), '>') OR CAST(platform AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(platform AS TEXT) GLOB '*_x*' OR instr(CAST(platform AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(platform AS TEXT))
                ELSE CAST(platform AS TEXT)
            END || '</t></is></c>'
        END,
        CASE typeof(platform_id)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(platform_id, '&') OR instr(platform_id, '<') OR instr(platform_id, '>') OR platform_id GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR platform_id GLOB '*_x*' OR instr(platform_id, char(0)) THEN seller_export_xlsx_text(platform_id)
                ELSE platform_id
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || platform_id || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(platform_id) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(platform_id) >= 1e-4 AND abs(platform_id) < 1e15 AND CAST(CAST(platform_id AS TEXT) AS REAL) = platform_id THEN CAST(platform_id AS TEXT)
                    ELSE seller_export_real_text(platform_id)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(platform_id) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(platform_id AS TEXT), '&') OR instr(CAST(platform_id AS TEXT), '<') OR instr(CAST(platform_id AS TEXT), '>') OR CAST(platform_id AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(platform_id AS TEXT) GLOB '*_x*' OR instr(CAST(platform_id AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(platform_id AS TEXT))
                ELSE CAST(platform_id AS TEXT)
            END || '</t></is></c>'
        END,
        CASE typeof(times_seen)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(times_seen, '&') OR instr(times_seen, '<') OR instr(times_seen, '>') OR times_seen GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR times_seen GLOB '*_x*' OR instr(times_seen, char(0)) THEN seller_export_xlsx_text(times_seen)
                ELSE times_seen
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || times_seen || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(times_seen) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(times_seen) >= 1e-4 AND abs(times_seen) < 1e15 AND CAST(CAST(times_seen AS TEXT) AS REAL) = times_seen THEN CAST(times_seen AS TEXT)
                    ELSE seller_export_real_text(times_seen)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(times_seen) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(times_seen AS TEXT), '&') OR instr(CAST(times_seen AS TEXT), '<') OR instr(CAST(times_seen AS TEXT), '>') OR CAST(times_seen AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(times_seen AS TEXT) GLOB '*_x*' OR instr(CAST(times_seen AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(times_seen AS TEXT))
                ELSE CAST(times_seen AS TEXT)
            END || '</t></is></c>'
        END,
        CASE typeof(feedback_percent)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(feedback_percent, '&') OR instr(feedback_percent, '<') OR instr(feedback_percent, '>') OR feedback_percent GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR feedback_percent GLOB '*_x*' OR instr(feedback_percent, char(0)) THEN seller_export_xlsx_text(feedback_percent)
                ELSE feedback_percent
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || feedback_percent || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(feedback_percent) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                    ELSE seller_export_real_text(feedback_percent)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(feedback_percent) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(feedback_percent AS TEXT), '&') OR instr(CAST(feedback_percent AS TEXT), '<') OR instr(CAST(feedback_percent AS TEXT), '>') OR CAST(feedback_percent AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(feedback_percent AS TEXT) GLOB '*_x*' OR instr(CAST(feedback_percent AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(feedback_percent AS TEXT))
                ELSE CAST(feedback_percent AS TEXT)
            END || '</t></is></c>'
        END,
        CASE typeof(feedback_count)
            WHEN 'text' THEN '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(feedback_count, '&') OR instr(feedback_count, '<') OR instr(feedback_count, '>') OR feedback_count GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR feedback_count GLOB '*_x*' OR instr(feedback_count, char(0)) THEN seller_export_xlsx_text(feedback_count)
                ELSE feedback_count
            END || '</t></is></c>'
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || feedback_count || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(feedback_count) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(feedback_count) >= 1e-4 AND abs(feedback_count) < 1e15 AND CAST(CAST(feedback_count AS TEXT) AS REAL) = feedback_count THEN CAST(feedback_count AS TEXT)
                    ELSE seller_export_real_text(feedback_count)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(feedback_count) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(feedback_count AS TEXT), '&') OR instr(CAST(feedback_count AS TEXT), '<') OR instr(CAST(feedback_count AS TEXT), '>') OR CAST(feedback_count AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(feedback_count AS TEXT) GLOB '*_x*' OR instr(CAST(feedback_count AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(feedback_count AS TEXT))
                ELSE CAST(feedback_count AS TEXT)
            END || '</t></is></c>'
        END,
        CASE
            WHEN flagged IS NULL THEN '<c/>'
            WHEN flagged THEN '<c t="b"><v>1</v></c>'
            ELSE '<c t="b"><v>0</v></c>'
        END,
        CASE typeof(created_at)
            WHEN 'text' THEN
            CASE
                WHEN created_at >= '1900-03-01' AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' AND date(julianday(substr(created_at, 1, 10))) = substr(created_at, 1, 10) THEN '<c s="2"><v>' || printf('%!.17g', (round(julianday(created_at) * 86400000) - 208657598400000) / 86400000.0
                ) || '</v></c>'
                ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
                CASE
                    WHEN instr(created_at, '&') OR instr(created_at, '<') OR instr(created_at, '>') OR created_at GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR created_at GLOB '*_x*' OR instr(created_at, char(0)) THEN seller_export_xlsx_text(created_at)
                    ELSE created_at
                END || '</t></is></c>'
            END
            WHEN 'null' THEN '<c/>'
            WHEN 'integer' THEN '<c><v>' || created_at || '</v></c>'
            WHEN 'real' THEN
            CASE
                WHEN abs(created_at) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(created_at) >= 1e-4 AND abs(created_at) < 1e15 AND CAST(CAST(created_at AS TEXT) AS REAL) = created_at THEN CAST(created_at AS TEXT)
                    ELSE seller_export_real_text(created_at)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(created_at) || '</t></is></c>'
            END
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(CAST(created_at AS TEXT), '&') OR instr(CAST(created_at AS TEXT), '<') OR instr(CAST(created_at AS TEXT), '>') OR CAST(created_at AS TEXT) GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR CAST(created_at AS TEXT) GLOB '*_x*' OR instr(CAST(created_at AS TEXT), char(0)) THEN seller_export_xlsx_text(CAST(created_at AS TEXT))
                ELSE CAST(created_at AS TEXT)
            END || '</t></is></c>'
        END
    ) AS BLOB
)
