"""The seed guide's example queries, verbatim apart from the placeholder source id (``your-source-id``).

``../shared/seed`` holds the guide; ``test_the_seed_queries_are_the_seeds`` checks these against it when
it is there.  The last two are the queries of the guide's backend service (``MetadataQueryService``).
"""

from __future__ import annotations

from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed"

SEED_QUERIES = {
    "sources_by_time": """
SELECT * FROM _executor_metadata.sources
ORDER BY extraction_timestamp DESC;""",
    "tables_for_source": """
SELECT
    t.table_name,
    t.file_type,
    t.row_count,
    t.column_count,
    t.size_bytes
FROM _executor_metadata.tables t
JOIN _executor_metadata.sources s ON t.source_id = s.source_id
WHERE s.source_path LIKE '%amazon%'
ORDER BY t.table_name;""",
    "columns_for_table": """
SELECT
    c.column_name,
    c.data_type,
    c.position,
    c.is_nullable,
    c.sample_values
FROM _executor_metadata.columns c
JOIN _executor_metadata.tables t ON c.source_id = t.source_id AND c.table_name = t.table_name
WHERE t.table_name = 'amazon.csv'
ORDER BY c.position;""",
    "complete_metadata": """
SELECT
    s.source_id,
    s.source_path,
    s.source_type,
    s.extraction_timestamp,
    s.files_found,
    s.total_size_bytes,
    t.table_name,
    t.file_type,
    t.row_count,
    t.column_count,
    c.column_name,
    c.data_type,
    c.position,
    c.is_nullable
FROM _executor_metadata.sources s
JOIN _executor_metadata.tables t ON s.source_id = t.source_id
JOIN _executor_metadata.columns c ON t.source_id = c.source_id AND t.table_name = c.table_name
WHERE s.source_id = 'your-source-id'
ORDER BY t.table_name, c.position;""",
    "latest_metadata": """
            SELECT
                s.source_id,
                s.source_path,
                s.extraction_timestamp,
                s.files_found,
                COUNT(DISTINCT t.table_name) as table_count,
                COUNT(c.column_name) as total_columns
            FROM _executor_metadata.sources s
            LEFT JOIN _executor_metadata.tables t ON s.source_id = t.source_id
            LEFT JOIN _executor_metadata.columns c ON t.source_id = c.source_id
            GROUP BY s.source_id, s.source_path, s.extraction_timestamp, s.files_found
            ORDER BY s.extraction_timestamp DESC
            LIMIT 1
        """,
    "source_columns": """
            SELECT
                table_name,
                column_name,
                data_type,
                position,
                is_nullable,
                sample_values
            FROM _executor_metadata.columns
            WHERE source_id = ?
            ORDER BY table_name, position
        """,
}

# The seed's original DDL for the `columns` table: seven columns, the ones the contract starts with.
SEED_COLUMNS_DDL = """
CREATE TABLE _executor_metadata.columns (
    source_id STRING,
    table_name STRING,
    column_name STRING,
    data_type STRING,
    position INT,
    is_nullable BOOLEAN,
    sample_values STRING
);"""
