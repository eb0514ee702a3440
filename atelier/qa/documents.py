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


# Bulk, set-based: each table of a range read once and grouped by parent (photos by answer,
# answers by question, questions by product), joined by hash; where one index lookup per
# question and per answer cost 1.9x the database CPU (scale 0.1, same documents). Lists are
# array_agg / string_agg in the same order as the ARRAY(...) lists above (empty: '{}' / '').
# Answer ids follow question ids closely, so each range reads the photos of an answer id range.


def _photos(form: str, answers: str) -> str:
    """Photos of the answers whose ids are in the range `answers` selects, grouped by answer."""
    return (f"(SELECT p.answer_id, string_agg({form}, ',' ORDER BY p.id) AS photos FROM {{s}}.answer_photo p "
            f"WHERE p.answer_id BETWEEN (SELECT min(id) FROM ({answers}) x) AND (SELECT max(id) FROM ({answers}) x) "
            f"GROUP BY p.answer_id)")


def _answers(form: str, photo_form: str, questions: str) -> str:
    """Unreported answers of the questions whose ids are in `questions` (an SQL range condition
    on a.question_id), grouped by question: `string_agg` (entries) or `array_agg` (details)."""
    listed = f"SELECT id + 0 AS id FROM {{s}}.answer a WHERE {questions}"  # + 0: min/max not by the id index
    element = (answer_entry("coalesce(p.photos, '')") if form == "string_agg"
               else utf8(answer_detail("coalesce(p.photos, '')")))
    separator = ", ','" if form == "string_agg" else ""
    return (f"(SELECT a.question_id, {form}({element}{separator} ORDER BY {ANSWER_ORDER}) AS answers "
            f"FROM {{s}}.answer a LEFT JOIN {_photos(photo_form, listed)} p ON p.answer_id = a.id "
            f"WHERE {questions} AND NOT a.reported GROUP BY a.question_id)")


# The products whose id is in [{lo}, {hi}) / the questions whose id is.
_PRODUCT_QUESTIONS = "q.product_id >= {lo} AND q.product_id < {hi}"
_QUESTION_IDS = (f"a.question_id BETWEEN (SELECT min(id + 0) FROM {{s}}.question q WHERE {_PRODUCT_QUESTIONS}) "
                 f"AND (SELECT max(id + 0) FROM {{s}}.question q WHERE {_PRODUCT_QUESTIONS})")
BUILD_PRODUCTS = f"""
INSERT INTO {{s}}.product_document (product_id, questions)
SELECT q.product_id, coalesce(array_agg({utf8(question_entry("coalesce(a.answers, '')"))} ORDER BY {QUESTION_ORDER})
                              FILTER (WHERE NOT q.reported), '{{}}')
FROM {{s}}.question q LEFT JOIN {_answers("string_agg", PHOTO_URL, _QUESTION_IDS)} a ON a.question_id = q.id
WHERE {_PRODUCT_QUESTIONS}
GROUP BY q.product_id
"""
BUILD_QUESTIONS = f"""
INSERT INTO {{s}}.question_document (question_id, answers)
SELECT q.id, coalesce(a.answers, '{{}}')
FROM {{s}}.question q
LEFT JOIN {_answers("array_agg", PHOTO_OBJECT, "a.question_id >= {lo} AND a.question_id < {hi}")} a
       ON a.question_id = q.id
WHERE q.id >= {{lo}} AND q.id < {{hi}}
"""

# One document, $1 its key; run with the product's document row locked.
REBUILD_PRODUCT = f"UPDATE {{s}}.product_document SET questions = {questions_of('$1')} WHERE product_id = $1".replace(
    "{s}", "qa")
REBUILD_QUESTION = f"UPDATE {{s}}.question_document SET answers = {answers_of('$1')} WHERE question_id = $1".replace(
    "{s}", "qa")
