"""Questions and answers: questions.csv, answers.csv, answers_photos.csv."""

from __future__ import annotations

from ..core.manifest import Service, lazy_generator
from . import load, routes, schema

SERVICE = Service(
    name="qa",
    router=routes.router,
    create_tables=schema.create_tables,
    create_indexes=schema.create_indexes,
    files=tuple(spec.file for spec in load.FILES),
    load=load.load,
    generate=lazy_generator("atelier.qa.generate"),
)
