"""SQL that precomputes the Q&A answers as compact JSON (key order as the contract).

The JSON of a photo, an answer and a question is written once below. It serves the bulk build
after a load (set-based, over id ranges, on several connections) and the rebuild of one document
inside a write transaction (assembled from index lookups of its own rows: correlated subqueries
on the parent-id indexes).
`{s}` is the schema. Objects are concatenated text, `to_json(text)` escaping strings.
"""

from __future__ import annotations


def j(expr: str) -> str:
    return f"coalesce(to_json({expr})::text, 'null')"


def day(expr: str) -> str:
    """Midnight UTC of the stored day: `2020-07-30T00:00:00.000Z`."""
    return f"(to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD') || 'T00:00:00.000Z')"


def utf8(expr: str) -> str:
    return f"convert_to({expr}, 'UTF8')"


ANSWER_ORDER = "a.helpful DESC, a.id"
QUESTION_ORDER = "q.helpful DESC, q.id"

# One document's lists are ARRAY(SELECT … ORDER BY …): the order comes from the (parent,
# helpful DESC, id) indexes, so no list is sorted, and the array keeps the subquery's order.

# An answer's photos: URL strings (inside GET /qa/questions) or {"id":1,"url":"…"} objects.
PHOTO_URL = j("p.url")
PHOTO_OBJECT = """'{"id":' || p.id || ',"url":' || """ + j("p.url") + " || '}'"
PHOTO_URLS = (f"array_to_string(ARRAY(SELECT {PHOTO_URL} FROM {{s}}.answer_photo p WHERE p.answer_id = a.id "
              "ORDER BY p.id), ',')")
PHOTO_OBJECTS = (f"array_to_string(ARRAY(SELECT {PHOTO_OBJECT} FROM {{s}}.answer_photo p WHERE p.answer_id = a.id "
                 "ORDER BY p.id), ',')")

_ANSWER_FIELDS = ("""',"body":' || """ + j("a.body") + """ || ',"date":"' || """ + day("a.date_written")
                  + """ || '","answerer_name":' || """ + j("a.answerer_name")
                  + """ || ',"helpfulness":' || a.helpful || ',"photos":['""")


def answer_entry(photos: str) -> str:
    """`"12":{"id":12,…,"photos":["…"]}`: a member of a question's `answers` object (answer `a`,
    `photos` an SQL expression for its comma-separated photo URLs)."""
    return """'"' || a.id || '":{"id":' || a.id || """ + _ANSWER_FIELDS + f" || {photos} || ']}}'"


def answer_detail(photos: str) -> str:
    """`{"answer_id":12,…,"photos":[{"id":1,"url":"…"}]}`: an element of GET /qa/questions/:id/answers."""
    return """'{"answer_id":' || a.id || """ + _ANSWER_FIELDS + f" || {photos} || ']}}'"


def question_entry(entries: str) -> str:
    """`{"question_id":3,…,"reported":false,"answers":{…}}` (only unreported questions are listed);
    `entries` an SQL expression for the members of its `answers` object."""
    return ("""'{"question_id":' || q.id || ',"question_body":' || """ + j("q.body")
            + """ || ',"question_date":"' || """ + day("q.date_written")
            + """ || '","asker_name":' || """ + j("q.asker_name")
            + """ || ',"question_helpfulness":' || q.helpful || ',"reported":false,"answers":{'"""
            + f" || {entries} || '}}}}'")


# The members of question q's `answers` object.
ENTRIES = (f"array_to_string(ARRAY(SELECT {answer_entry(PHOTO_URLS)} FROM {{s}}.answer a "
           f"WHERE a.question_id = q.id AND NOT a.reported ORDER BY {ANSWER_ORDER}), ',')")


def answers_of(question: str) -> str:
    """The answers list of one question: bytea[] of JSON objects."""
    return (f"ARRAY(SELECT {utf8(answer_detail(PHOTO_OBJECTS))} FROM {{s}}.answer a "
            f"WHERE a.question_id = {question} AND NOT a.reported ORDER BY {ANSWER_ORDER})")


def questions_of(product: str) -> str:
    """The questions list of one product: bytea[] of JSON objects."""
    return (f"ARRAY(SELECT {utf8(question_entry(ENTRIES))} FROM {{s}}.question q "
            f"WHERE q.product_id = {product} AND NOT q.reported ORDER BY {QUESTION_ORDER})")


# Bulk, set-based, one statement per range of product ids for both documents: the range's
# questions, their answers (by the range of question ids) and those answers' photos (by the
# range of answer ids) are each read once and grouped by parent, joined by hash. Each answer's
# common fields (body, date, name, helpfulness) are written once and serve both its forms: the
# entry in its question's `answers` object (product_document) and the element of its question's
# answers list (question_document). Two statements, each reading every answer and writing its
# JSON (and recomputing the range bounds in subqueries), took 1.23x the database CPU (10.6 s
# against 8.6 s at scale 0.1, the same documents; bench/document_builds.py). Lists are
# array_agg / string_agg in the same order as the ARRAY(...) lists above (empty: '{}' / '').
# Every question is in exactly one range (by its product).
_ENTRY = """'"' || a.id || '":{"id":' || a.id || a.fields || coalesce(p.urls, '') || ']}'"""
_DETAIL = utf8("""'{"answer_id":' || a.id || a.fields || coalesce(p.objects, '') || ']}'""")
BUILD_RANGE = f"""
WITH q AS MATERIALIZED (
    SELECT id, product_id, body, date_written, asker_name, helpful, reported FROM {{s}}.question
    WHERE product_id >= {{lo}} AND product_id < {{hi}}),
a AS MATERIALIZED (
    SELECT a.id, a.question_id, a.helpful, {_ANSWER_FIELDS} AS fields FROM {{s}}.answer a
    WHERE a.question_id BETWEEN (SELECT min(id) FROM q) AND (SELECT max(id) FROM q) AND NOT a.reported),
photos AS (
    SELECT p.answer_id, string_agg({PHOTO_URL}, ',' ORDER BY p.id) AS urls,
           string_agg({PHOTO_OBJECT}, ',' ORDER BY p.id) AS objects
    FROM {{s}}.answer_photo p WHERE p.answer_id BETWEEN (SELECT min(id) FROM a) AND (SELECT max(id) FROM a)
    GROUP BY p.answer_id),
answers AS (
    SELECT a.question_id,
           string_agg({_ENTRY}, ',' ORDER BY {ANSWER_ORDER}) AS entries,
           array_agg({_DETAIL} ORDER BY {ANSWER_ORDER}) AS details
    FROM a LEFT JOIN photos p ON p.answer_id = a.id GROUP BY a.question_id),
question_documents AS (
    INSERT INTO {{s}}.question_document (question_id, answers)
    SELECT q.id, coalesce(answers.details, '{{}}') FROM q LEFT JOIN answers ON answers.question_id = q.id)
INSERT INTO {{s}}.product_document (product_id, questions)
SELECT q.product_id, coalesce(array_agg({utf8(question_entry("coalesce(answers.entries, '')"))}
                                        ORDER BY {QUESTION_ORDER}) FILTER (WHERE NOT q.reported), '{{}}')
FROM q LEFT JOIN answers ON answers.question_id = q.id
GROUP BY q.product_id
"""

# One document, $1 its key; run with the product's document row locked.
REBUILD_PRODUCT = f"UPDATE {{s}}.product_document SET questions = {questions_of('$1')} WHERE product_id = $1".replace(
    "{s}", "qa")
REBUILD_QUESTION = f"UPDATE {{s}}.question_document SET answers = {answers_of('$1')} WHERE question_id = $1".replace(
    "{s}", "qa")
