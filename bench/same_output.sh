#!/usr/bin/env bash
# Everything a version of atelier produces from the same arguments, written to one folder, so
# that two versions compare with `diff -r`: the generated files (checksums), the reject files, the
# load's counts, the database's layout (pg_dump --schema-only) and every row of every table
# (sorted). A refactoring that keeps the behaviour gives no difference.
#
#   bench/same_output.sh REF OUT      REF: a commit, or "." for this working tree
#   bench/same_output.sh b78d027 /tmp/before && bench/same_output.sh . /tmp/after && diff -r /tmp/before /tmp/after
#
# Data sets: --scale 0.01 with the default defect rate, its BOM+CRLF copies, and --scale 0.01
# --defect-rate 0.02 --seed 7; the first one is loaded a second time with every file group in
# processes of its own (ATELIER_LOAD_CONCURRENT_BYTES=0), which must give the same database.
# Environment: ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres), DB (the database
# created and dropped, default atelier_same_output), PYTHON (default this tree's .venv/bin/python).
set -euo pipefail
REF=${1:?usage: $0 REF OUT}
OUT=$(realpath -m "${2:?usage: $0 REF OUT}")
HERE=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$HERE/.venv/bin/python}
ADMIN_URL=${ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=${DB:-atelier_same_output}
DB_URL=${ADMIN_URL%/*}/$DB
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DUMP=${PG_DUMP:-$PG_BIN/pg_dump}
PSQL=${PSQL:-$PG_BIN/psql}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; "$PSQL" -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT
if [ "$REF" = "." ]; then
    CODE=$HERE
else
    mkdir "$WORK/code" && git -C "$HERE" archive "$REF" atelier | tar -x -C "$WORK/code"
    CODE=$WORK/code
fi
rm -rf "$OUT" && mkdir -p "$OUT"
atelier() { (cd "$CODE" && PYTHONPATH="$CODE" "$PYTHON" -m atelier "$@"); }
[ "$(cd "$CODE" && PYTHONPATH="$CODE" "$PYTHON" -c 'import atelier; print(atelier.__file__)')" = "$CODE/atelier/__init__.py" ]

# A column's text in the dump: documents (bytea, bytea[]) as their UTF-8 text; the load's clock
# (columns defaulting to now(), and the documents' created_at/updated_at) masked as NOW.
COLUMN_TEXT="SELECT string_agg(CASE
    WHEN column_default LIKE 'now()%' THEN quote_literal('NOW')
    WHEN data_type = 'bytea' THEN format('convert_from(%I, ''UTF8'')', column_name)
    WHEN udt_name = '_bytea' THEN format('array_to_string(ARRAY(SELECT convert_from(x, ''UTF8'')
        FROM unnest(%I) WITH ORDINALITY u(x, i) ORDER BY i), chr(10))', column_name)
    ELSE quote_ident(column_name) END, ', ' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema || '.' || table_name = :'table'"

dump_database() {  # every table of every schema but the system's, rows sorted; sequences' positions
    local into=$1
    mkdir -p "$into"
    "$PG_DUMP" --schema-only --no-owner "$DB_URL" | grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict' \
        > "$into/schema.sql"
    "$PSQL" -qAt "$DB_URL" -c "SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'S')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1" |
    while read -r table kind; do
        if [ "$kind" = S ]; then
            "$PSQL" -qAt "$DB_URL" -c "SELECT last_value, is_called FROM $table" > "$into/$table.seq"
        else
            columns=$(echo "$COLUMN_TEXT" | "$PSQL" -qAt "$DB_URL" -v table="$table")
            "$PSQL" -q "$DB_URL" -c "\\copy (SELECT $columns FROM $table) TO STDOUT" |
                sed -E 's/"(created_at|updated_at)":"[^"]*"/"\1":"NOW"/g' | LC_ALL=C sort > "$into/$table.rows"
        fi
    done
}

load_and_dump() {  # DATA NAME [env...]
    local data=$1 name=$2
    shift 2
    "$PSQL" -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    local rejects=$WORK/rejects-$name
    (cd "$CODE" && env "$@" DATABASE_URL="$DB_URL" PYTHONPATH="$CODE" "$PYTHON" -m atelier load --data "$data" \
        --rejects "$rejects" > "$WORK/load.out")
    # the counts, without the timings (seconds vary from run to run)
    sed -E 's/ in [0-9]+\.[0-9]+s//; s/ +[0-9]+\.[0-9]+s//g; s/ +\(rejects in .*\)//' "$WORK/load.out" | grep -E 'read|total' > "$OUT/$name.load.txt"
    mkdir -p "$OUT/$name.rejects" && cp -r "$rejects/." "$OUT/$name.rejects/" 2>/dev/null || true
    dump_database "$OUT/$name.db"
}

atelier generate --quiet --out "$WORK/default" --scale 0.01 --bom-crlf 2>/dev/null
atelier generate --quiet --out "$WORK/defects" --scale 0.01 --defect-rate 0.02 --seed 7 2>/dev/null
(cd "$WORK" && find default defects -type f | LC_ALL=C sort | xargs sha256sum) > "$OUT/generated.sha256"

load_and_dump "$WORK/default" default
load_and_dump "$WORK/default" default-processes ATELIER_LOAD_CONCURRENT_BYTES=0
load_and_dump "$WORK/default/bom-crlf" bom-crlf
load_and_dump "$WORK/defects" defects
echo "written to $OUT"
