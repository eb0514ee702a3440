"""SQL that precomputes the Q&A answers as compact JSON (key order as the contract).

The JSON of a photo, an answer and a question is written once below. The same statements build
every document after a bulk load (over id ranges, on several connections) and rebuild one
document inside a write transaction: each document is assembled from index lookups of its own
rows (correlated subqueries on the parent-id indexes), so nothing sorts a whole table.
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

# Lists are ARRAY(SELECT … ORDER BY …): the order comes from the (parent, helpful DESC, id)
# indexes, so no list is sorted, and the array keeps the subquery's order.

# An answer's photos: URL strings (inside GET /qa/questions) or {"id":1,"url":"…"} objects.
PHOTO_URLS = ("array_to_string(ARRAY(SELECT " + j("p.url")
              + " FROM {s}.answer_photo p WHERE p.answer_id = a.id ORDER BY p.id), ',')")
PHOTO_OBJECTS = ("""array_to_string(ARRAY(SELECT '{"id":' || p.id || ',"url":' || """ + j("p.url")
                 + " || '}' FROM {s}.answer_photo p WHERE p.answer_id = a.id ORDER BY p.id), ',')")

_ANSWER_FIELDS = ("""',"body":' || """ + j("a.body") + """ || ',"date":"' || """ + day("a.date_written")
                  + """ || '","answerer_name":' || """ + j("a.answerer_name")
                  + """ || ',"helpfulness":' || a.helpful || ',"photos":['""")

# `"12":{"id":12,…,"photos":["…"]}`: a member of a question's `answers` object.
ANSWER_ENTRY = """'"' || a.id || '":{"id":' || a.id || """ + _ANSWER_FIELDS + f" || {PHOTO_URLS} || ']}}'"
# `{"answer_id":12,…,"photos":[{"id":1,"url":"…"}]}`: an element of GET /qa/questions/:id/answers.
ANSWER_DETAIL = """'{"answer_id":' || a.id || """ + _ANSWER_FIELDS + f" || {PHOTO_OBJECTS} || ']}}'"

# The members of question q's `answers` object.
ENTRIES = (f"array_to_string(ARRAY(SELECT {ANSWER_ENTRY} FROM {{s}}.answer a "
           f"WHERE a.question_id = q.id AND NOT a.reported ORDER BY {ANSWER_ORDER}), ',')")

# `{"question_id":3,…,"reported":false,"answers":{…}}` (only unreported questions are listed).
QUESTION_ENTRY = ("""'{"question_id":' || q.id || ',"question_body":' || """ + j("q.body")
                  + """ || ',"question_date":"' || """ + day("q.date_written")
                  + """ || '","asker_name":' || """ + j("q.asker_name")
                  + """ || ',"question_helpfulness":' || q.helpful || ',"reported":false,"answers":{'"""
                  + f" || {ENTRIES} || '}}}}'")


def answers_of(question: str) -> str:
    """The answers list of one question: bytea[] of JSON objects."""
    return (f"ARRAY(SELECT {utf8(ANSWER_DETAIL)} FROM {{s}}.answer a "
            f"WHERE a.question_id = {question} AND NOT a.reported ORDER BY {ANSWER_ORDER})")


def questions_of(product: str) -> str:
    """The questions list of one product: bytea[] of JSON objects."""
    return (f"ARRAY(SELECT {utf8(QUESTION_ENTRY)} FROM {{s}}.question q "
            f"WHERE q.product_id = {product} AND NOT q.reported ORDER BY {QUESTION_ORDER})")


# Bulk: the products whose id is in [{lo}, {hi}) / the questions whose id is.
BUILD_PRODUCTS = f"""
SET jit = off;
INSERT INTO {{s}}.product_document (product_id, questions)
SELECT d.product_id, {questions_of('d.product_id')}
FROM (SELECT DISTINCT product_id FROM {{s}}.question WHERE product_id >= {{lo}} AND product_id < {{hi}}) d
"""
BUILD_QUESTIONS = f"""
SET jit = off;
INSERT INTO {{s}}.question_document (question_id, answers)
SELECT q.id, {answers_of('q.id')} FROM {{s}}.question q WHERE q.id >= {{lo}} AND q.id < {{hi}}
"""

# One document, $1 its key; run with the product's document row locked.
REBUILD_PRODUCT = f"UPDATE {{s}}.product_document SET questions = {questions_of('$1')} WHERE product_id = $1".replace(
    "{s}", "qa")
REBUILD_QUESTION = f"UPDATE {{s}}.question_document SET answers = {answers_of('$1')} WHERE question_id = $1".replace(
    "{s}", "qa")
