"""Streaming legacy CSV files into PostgreSQL, every row accounted for.

Each service describes its files as `FileSpec`s (`spec.py`: columns with parsers from
`parsers.py`, parent checks). `stream.load_file` reads a file as a stream of logical records
(`legacy_csv.py`: BOM, CRLF, camelCase headers, unterminated quotes repaired where the intent is
clear), parses and checks every row, and streams the good ones into one binary COPY while it
writes every bad one to the reject file (`rejects.py`) with its line number, raw text and reason.
The counts it returns always add up: read = loaded + rejected. Parent checks use id sets
(`ids.py`); a child file can load while its parent file is still loading in another process
(`shared_ids.py`): the rows it cannot decide yet are held back until it can, so the verdicts do
not depend on the timing. `context.py` is one `atelier load` run: the staging schema and the
process pool that loads files side by side.
"""
