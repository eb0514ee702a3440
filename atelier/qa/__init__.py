"""Questions and answers: questions.csv, answers.csv, answers_photos.csv."""

from __future__ import annotations

from ..core.manifest import Service, lazy_generator
from . import load, routes, tables

SERVICE = Service(
    name="qa",
    router=routes.router,
    tables=tables.TABLES,
    depends_on=("products",),
    load=load.load,
    generate=lazy_generator("atelier.qa.generate"),
)
