"""scripts/backup.sh's and scripts/restore.sh's helper: reads D1 SQL backups and wrangler's JSON output.

  backup_sql.py summary FILE          what FILE holds, as JSON: {"kind": "full" | "data-only",
                                      "level": 3 | null, "tables": {table: rows}}. A full backup is a
                                      `wrangler d1 export` (CREATE TABLE + INSERTs, d1_migrations among
                                      them); a data-only one is INSERTs only (the nightly R2 export).
  backup_sql.py facts                 reads a summary on stdin: "LEVEL TABLES ROWS" (LEVEL as NNNN)
  backup_sql.py table-counts          reads a summary on stdin: its {table: rows}
  backup_sql.py code-level            the highest NNNN of migrations/fhir-iq/NNNN_*.sql
  backup_sql.py migrations-after N    how many migrations/fhir-iq/NNNN_*.sql have NNNN > N
  backup_sql.py migrations-upto N DIR copies migrations/fhir-iq/NNNN_*.sql with NNNN <= N into DIR
  backup_sql.py counts-sql TABLE...   one `SELECT COUNT(*)` per table, for `wrangler d1 execute --command`
  backup_sql.py counts TABLE...       reads that command's `--json` output on stdin: {table: rows}
  backup_sql.py objects-sql           the query that lists a database's tables and views
  backup_sql.py objects               reads `--json` output of objects-sql on stdin: "type name" lines
  backup_sql.py drop-sql              reads "type name" lines on stdin: the SQL that drops them all
  backup_sql.py print-counts          reads {table: rows} JSON on stdin: an aligned table for people

Rows are counted from the file's INSERT statements: `wrangler d1 export` writes one per line (a newline
inside a value is written as replace('..\\n..','\\n',char(10))), so a line that starts a statement
starts a row.
"""

import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations" / "fhir-iq"
MIGRATION_FILE = re.compile(r"(\d{4})_[A-Za-z0-9_.-]*\.sql")
INSERT = re.compile(r'^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)', re.I)
CREATE_TABLE = re.compile(r'^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)', re.I)
NIGHTLY_HEADER = re.compile(r"^--\s*fhir-iq r2 backup:\s*migration\s+(\d{4})_")
# Objects D1 and SQLite keep for themselves: never counted, dropped or restored by name.
INTERNAL = ("sqlite_", "_cf_")
# The query whose output `objects` reads: every table and view of the database that is not internal.
OBJECTS_SQL = (
    "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY type, name"
)


def unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def internal(name: str) -> bool:
    return name.lower().startswith(INTERNAL)


def summary(path: str) -> None:
    tables: dict[str, int] = {}
    full = False
    levels: list[int] = []
    header_levels: list[int] = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            created = CREATE_TABLE.match(line)
            if created:
                full = True
                name = unquote(created.group(1))
                if not internal(name):
                    tables.setdefault(name, 0)
                continue
            inserted = INSERT.match(line)
            if inserted:
                name = unquote(inserted.group(1))
                if internal(name):
                    continue
                tables[name] = tables.get(name, 0) + 1
                if name == "d1_migrations":
                    levels += [int(n) for n in MIGRATION_FILE.findall(line)]
            elif line.startswith("--"):
                # A data-only export says in a comment which migration its rows are at: the nightly
                # R2 export's first line is `-- fhir-iq r2 backup: migration 0004_operations.sql; ...`
                # (shared::backup::sql::header).
                named = NIGHTLY_HEADER.match(line)
                header_levels += [int(named.group(1))] if named else [int(n) for n in MIGRATION_FILE.findall(line)]
    level = max(levels or header_levels, default=None)
    print(json.dumps({"kind": "full" if full else "data-only", "level": level, "tables": tables}))


def facts() -> None:
    s = json.load(sys.stdin)
    print(f"{s['level'] or 0:04d} {len(s['tables'])} {sum(s['tables'].values())}")


def levels() -> list[int]:
    return [int(m.group(1)) for p in MIGRATIONS.iterdir() if (m := MIGRATION_FILE.fullmatch(p.name))]


def code_level() -> None:
    print(max(levels(), default=0))


def migrations_upto(level: int, directory: str) -> None:
    for path in sorted(MIGRATIONS.iterdir()):
        match = MIGRATION_FILE.fullmatch(path.name)
        if match and int(match.group(1)) <= level:
            # Copies: wrangler does not list symlinked migration files.
            shutil.copyfile(path, Path(directory) / path.name)


def results(text: str) -> list:
    # wrangler may print notices before the JSON: start at the line that opens it.
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), None)
    if start is None:
        sys.exit(f"expected JSON from wrangler, got: {text[:300]!r}")
    return [statement.get("results", []) for statement in json.loads("\n".join(lines[start:]))]


def counts_sql(tables: list[str]) -> None:
    print(" ".join(f"SELECT COUNT(*) AS n FROM {quote(t)};" for t in tables))


def counts(tables: list[str]) -> None:
    answered = results(sys.stdin.read())
    if len(answered) != len(tables):
        sys.exit(f"expected {len(tables)} counts from wrangler, got {len(answered)}")
    print(json.dumps({t: rows[0]["n"] for t, rows in zip(tables, answered)}))


def objects() -> None:
    for row in results(sys.stdin.read())[0]:
        print(row["type"], row["name"])


def drop_sql() -> None:
    # Deferred foreign keys: a table may be dropped before the tables that reference it, as long as
    # nothing dangles when the statements end (nothing does: everything goes).
    statements = ["PRAGMA defer_foreign_keys = TRUE;"]
    found = [line.rstrip("\n").split(" ", 1) for line in sys.stdin if line.strip()]
    statements += [f"DROP VIEW IF EXISTS {quote(name)};" for kind, name in found if kind == "view"]
    statements += [f"DROP TABLE IF EXISTS {quote(name)};" for kind, name in found if kind == "table"]
    print("\n".join(statements))


def print_counts() -> None:
    tables = json.load(sys.stdin)
    width = max((len(t) for t in tables), default=0)
    for table in sorted(tables):
        print(f"  {table:<{width}}  {tables[table]:>8}")


def main() -> None:
    command, args = sys.argv[1], sys.argv[2:]
    if command == "summary":
        summary(args[0])
    elif command == "facts":
        facts()
    elif command == "table-counts":
        print(json.dumps(json.load(sys.stdin)["tables"]))
    elif command == "code-level":
        code_level()
    elif command == "migrations-after":
        print(sum(1 for n in levels() if n > int(args[0])))
    elif command == "migrations-upto":
        migrations_upto(int(args[0]), args[1])
    elif command == "objects-sql":
        print(OBJECTS_SQL)
    elif command == "objects":
        objects()
    elif command == "drop-sql":
        drop_sql()
    elif command == "counts-sql":
        counts_sql(args)
    elif command == "counts":
        counts(args)
    elif command == "print-counts":
        print_counts()
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
