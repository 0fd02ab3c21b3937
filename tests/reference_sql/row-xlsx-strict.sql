-- How one row of a mirror made by the plugin becomes its xlsx bytes (default
-- settings): its STRICT table fixes each value's storage class, and its CHECKs keep
-- NUL out, so neither is checked here.
CAST(printf('<row>%s%s%s%s%s%s%s%s%s</row>',
        CASE
            WHEN display_name IS NULL THEN '<c/>'
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(display_name, '&') OR instr(display_name, '<') OR instr(display_name, '>') OR display_name GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR display_name GLOB '*_x*' THEN seller_export_xlsx_text(display_name)
                ELSE display_name
            END || '</t></is></c>'
        END,
        CASE
            WHEN normalized_name IS NULL THEN '<c/>'
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(normalized_name, '&') OR instr(normalized_name, '<') OR instr(normalized_name, '>') OR normalized_name GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR normalized_name GLOB '*_x*' THEN seller_export_xlsx_text(normalized_name)
                ELSE normalized_name
            END || '</t></is></c>'
        END,
        CASE
            WHEN platform IS NULL THEN '<c/>'
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(platform, '&') OR instr(platform, '<') OR instr(platform, '>') OR platform GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR platform GLOB '*_x*' THEN seller_export_xlsx_text(platform)
                ELSE platform
            END || '</t></is></c>'
        END,
        CASE
            WHEN platform_id IS NULL THEN '<c/>'
            ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
            CASE
                WHEN instr(platform_id, '&') OR instr(platform_id, '<') OR instr(platform_id, '>') OR platform_id GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR platform_id GLOB '*_x*' THEN seller_export_xlsx_text(platform_id)
                ELSE platform_id
            END || '</t></is></c>'
        END,
        CASE
            WHEN times_seen IS NULL THEN '<c/>'
            ELSE '<c><v>' || times_seen || '</v></c>'
        END,
        CASE
            WHEN feedback_percent IS NULL THEN '<c/>'
            ELSE
            CASE
                WHEN abs(feedback_percent) <= 1.7976931348623157e308 THEN '<c><v>' ||
                CASE
                    WHEN abs(feedback_percent) >= 1e-4 AND abs(feedback_percent) < 1e15 AND CAST(CAST(feedback_percent AS TEXT) AS REAL) = feedback_percent THEN CAST(feedback_percent AS TEXT)
                    ELSE seller_export_real_text(feedback_percent)
                END || '</v></c>'
                ELSE '<c t="inlineStr"><is><t>' || seller_export_real_text(feedback_percent) || '</t></is></c>'
            END
        END,
        CASE
            WHEN feedback_count IS NULL THEN '<c/>'
            ELSE '<c><v>' || feedback_count || '</v></c>'
        END,
        CASE
            WHEN flagged IS NULL THEN '<c/>'
            WHEN flagged THEN '<c t="b"><v>1</v></c>'
            ELSE '<c t="b"><v>0</v></c>'
        END,
        CASE
            WHEN created_at IS NULL THEN '<c/>'
            ELSE
            CASE
                WHEN created_at >= '1900-03-01' AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' AND date(julianday(substr(created_at, 1, 10))) = substr(created_at, 1, 10) THEN '<c s="2"><v>' || printf('%!.17g', (round(julianday(created_at) * 86400000) - 208657598400000) / 86400000.0
                ) || '</v></c>'
                ELSE '<c t="inlineStr"><is><t xml:space="preserve">' ||
                CASE
                    WHEN instr(created_at, '&') OR instr(created_at, '<') OR instr(created_at, '>') OR created_at GLOB '*[' || char(1) || '-' || char(8, 11) || '-' || char(31, 65534, 65535) || ']*' OR created_at GLOB '*_x*' THEN seller_export_xlsx_text(created_at)
                    ELSE created_at
                END || '</t></is></c>'
            END
        END
    ) AS BLOB
)
