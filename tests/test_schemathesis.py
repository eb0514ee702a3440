"""Schemathesis against the served `/openapi.json`: every operation, positive and negative data, and
stateful sequences along the document's links (a posted review then listed, a posted question then
listed, a posted answer then listed), on a real server over the legacy sample.

Checks: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, positive_data_acceptance, negative_data_rejection. Bounded: a fixed
seed, a fixed number of examples per operation and no shrinking (a failure is reported as found).

Positive data is steered to rows that exist: the document can say what a valid `product_id` or
`sku_id` looks like but not which ones exist, and the contract answers a well-formed unknown
product or sku of a POST with a 422 (api.md). Only those ids are replaced, by valid ones of the
same JSON type, so the case stays positive; negative cases are sent as generated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import hypothesis
import pytest
import schemathesis
from conftest import Server, loaded_database, sample_copy
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from atelier.core.config import Settings
from atelier.server import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          positive_data_acceptance, negative_data_rejection]
SEED = 20261201
EXAMPLES = 25  # per operation and generation mode
STATEFUL_EXAMPLES = 15
STATEFUL_STEPS = 6

ANSWERS = ("id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful\n"
           '1,1,"Soft, I think",1599958871179,"metslover","first.last@gmail.com",0,5\n'
           '2,3,"Runs small",1608535907083,"Seller","seller@gmail.com",0,14\n')
PHOTOS = 'id,answer_id,url\n1,2,"https://images.example.com/fit.jpg"\n'
CART = "id,user_session,product_id,active\n1,1234,1,1\n2,1234,3,0\n"


@dataclass(frozen=True)
class Known:
    """Ids that exist, for steering positive data."""

    characteristics: dict[int, list[int]]  # product -> its characteristic ids
    products: list[int]
    skus: list[int]


def _known(url: str) -> Known:
    async def go() -> Known:
        conn = await asyncpg.connect(url)
        try:
            products = [r[0] for r in await conn.fetch("SELECT id FROM products.product ORDER BY id")]
            rows = await conn.fetch("SELECT product_id, array_agg(id ORDER BY id) FROM reviews.characteristic "
                                    "GROUP BY product_id")
            skus = [r[0] for r in await conn.fetch("SELECT id FROM products.sku ORDER BY id LIMIT 100")]
            return Known({r[0]: list(r[1]) for r in rows}, products, skus)
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Known]]:
    data = sample_copy(tmp_path_factory.mktemp("schemathesis-data"), answers=ANSWERS, answers_photos=PHOTOS,
                       cart=CART)
    with loaded_database(data, rejects=data / "rejects") as url:
        server = Server(url)
        try:
            yield server.url, _known(url)
        finally:
            server.stop()


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": EXAMPLES, "no-shrink": True, "database": "none"},
        "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
    })


@pytest.fixture(scope="module")
def api_schema(served: tuple[str, Known]) -> Any:
    base, _ = served
    return schemathesis.openapi.from_url(f"{base}/openapi.json", config=_config())


@pytest.fixture(scope="module")
def known(served: tuple[str, Known]) -> Known:
    return served[1]


def steer(case: Case, known: Known) -> None:
    """Positive bodies name a product, its characteristics or a sku that exists (same JSON types)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    body = case.body
    operation = f"{case.method} {case.operation.path}"
    if operation in ("POST /reviews", "POST /qa/questions"):
        generated = cast(int | str, body["product_id"])  # positive data: the schema's integer, or its string form
        product = known.products[_pick(generated, len(known.products))]
        if operation == "POST /reviews":
            product = sorted(known.characteristics)[_pick(generated, len(known.characteristics))]
            if "characteristics" in body:
                ratings = list(cast(dict[str, Any], body["characteristics"]).values()) or [3]  # an object there
                body["characteristics"] = {str(c): ratings[i % len(ratings)]
                                           for i, c in enumerate(known.characteristics[product])}
        body["product_id"] = str(product) if isinstance(body["product_id"], str) else product
    elif operation == "POST /cart":
        sku = known.skus[_pick(cast(int | str, body["sku_id"]), len(known.skus))]
        body["sku_id"] = str(sku) if isinstance(body["sku_id"], str) else sku


def _pick(generated: int | str, choices: int) -> int:
    return int(generated) % choices


SETTINGS = hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                               phases=[hypothesis.Phase.generate], suppress_health_check=list(hypothesis.HealthCheck))
# Every route the server answers, from the same declarations the document is built from; negative
# data for those that take parameters or a body.
ROUTES = create_app(Settings.from_env()).router.routes
CASES = [(route.method, route.template, mode) for route in ROUTES
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or (route.operation and (route.operation.params or route.operation.body))]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_every_operation_conforms(api_schema: Any, known: Known, method: str, path: str, mode: GenerationMode) -> None:
    operation = api_schema[path][method]

    @hypothesis.given(operation.as_strategy(mode))
    @SETTINGS
    def conforms(case: Case) -> None:
        steer(case, known)
        case.call_and_validate(checks=CHECKS, timeout=10)

    conforms()


def test_stateful_sequences_along_the_links(api_schema: Any, known: Known) -> None:
    class Machine(api_schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Case) -> None:
            steer(case, known)

        def validate_response(self, response: Any, case: Case, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Machine.run(settings=hypothesis.settings(max_examples=STATEFUL_EXAMPLES, derandomize=True, deadline=None,
                                             stateful_step_count=STATEFUL_STEPS, database=None,
                                             suppress_health_check=list(hypothesis.HealthCheck)))
