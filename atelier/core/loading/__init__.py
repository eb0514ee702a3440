"""Streaming legacy CSV files into PostgreSQL, every row accounted for.

Each service describes its files as `FileSpec`s (`spec.py`: columns with parsers from
`parsers.py`, parent checks). `stream.load_file` reads a file in blocks of lines (`blocks.py`),
finds the plain lines and their fields in bulk (`scan.py`), checks each column of them at once
with its parser's semantics (`columns.py`) and sends the lines that pass to COPY as they are;
every other line goes through the exact path (`legacy_csv.py`: BOM, CRLF, camelCase headers,
unterminated quotes repaired where the intent is clear, then the row parsers) with its line
number and raw text. All rows then get their verdicts in line order (`verdicts.py`: orphans,
duplicates, against id sets, `ids.py`); rejects go to the reject file (`rejects.py`) with line
number, reason and raw text. The counts it returns always add up: read = loaded + rejected.
`context.py` is one `atelier load` run: the staging schema, the processes that load files side
by side, and the steps of SQL run on several connections.
"""
