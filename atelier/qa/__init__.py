"""Questions and answers: questions.csv, answers.csv, answers_photos.csv."""

from __future__ import annotations

from ..core.service import Service, lazy_generator
from . import load, queries, routes, schema

SERVICE = Service(
    name="qa",
    router=routes.router,
    create_tables=schema.create_tables,
    create_indexes=schema.create_indexes,
    files=tuple(spec.file for spec in load.FILES),
    load=load.load,
    generate=lazy_generator("atelier.qa.generate"),
    prewarm=("qa.product_document", "qa.question_document"),
    routines=queries.ROUTINES,
)
