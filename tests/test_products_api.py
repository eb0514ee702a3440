"""The Products contract (spec/api.md) on the real legacy rows, through the real HTTP server."""

from __future__ import annotations

import httpx
import pytest


def test_product_1_with_features(client: httpx.Client) -> None:
    r = client.get("/products/1")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["id", "campus", "name", "slogan", "description", "category", "default_price",
                          "created_at", "updated_at", "features"]
    assert body["id"] == 1 and body["campus"] == "hr-rfp"
    assert body["name"] == "Camo Onesie" and body["category"] == "Jackets"
    assert body["default_price"] == "140.00"
    assert body["features"] == [{"feature": "Fabric", "value": "Canvas"}, {"feature": "Buttons", "value": "Brass"}]
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 24


def test_null_feature_value_is_json_null(client: httpx.Client) -> None:
    features = client.get("/products/2").json()["features"]
    assert {"feature": "UV Protection", "value": None} in features


def test_duplicated_features_are_kept(client: httpx.Client) -> None:
    names = [f["feature"] for f in client.get("/products/17").json()["features"]]
    assert names.count("Lifetime Guarantee") == 2


def test_product_1_styles(client: httpx.Client) -> None:
    body = client.get("/products/1/styles").json()
    assert body["product_id"] == "1"
    styles = body["results"]
    assert [s["style_id"] for s in styles] == [1, 2, 3, 4, 5, 6]
    first = styles[0]
    assert list(first) == ["style_id", "name", "original_price", "sale_price", "default?", "photos", "skus"]
    assert first["name"] == "Forest Green & Black" and first["original_price"] == "140.00"
    assert first["sale_price"] is None and first["default?"] is True
    assert list(first["photos"][0]) == ["thumbnail_url", "url"]
    assert "w=300" in first["photos"][0]["thumbnail_url"] and "w=668" in first["photos"][0]["url"]
    assert first["skus"]["1"] == {"quantity": 8, "size": "XS"}
    assert first["skus"]["5"]["size"] == "XL" and first["skus"]["6"]["size"] == "XL"
    assert styles[2]["sale_price"] == "100.00"


def test_product_2_placeholder_photos_and_null_skus(client: httpx.Client) -> None:
    styles = client.get("/products/2/styles").json()["results"]
    assert [s["style_id"] for s in styles] == [7, 8, 9, 10]
    for style in styles:
        assert style["photos"] == [{"thumbnail_url": None, "url": None}]
        assert style["skus"] == {"null": {"quantity": None, "size": None}}


def test_product_without_styles(client: httpx.Client) -> None:
    r = client.get("/products/11/styles")
    assert r.status_code == 200
    assert r.json() == {"product_id": "11", "results": []}


def test_product_without_default_style(client: httpx.Client) -> None:
    styles = client.get("/products/7/styles").json()["results"]
    assert styles and not any(s["default?"] for s in styles)


def test_outlier_prices(client: httpx.Client) -> None:
    assert client.get("/products/10").json()["default_price"] == "5000000.00"
    assert client.get("/products/10/styles").json()["results"][0]["original_price"] == "500000000.00"


@pytest.mark.parametrize("product_id, related", [(1, [2, 3, 8, 7]), (4, [1, 2, 4, 5, 8]), (5, [6, 6, 8, 9, 1, 3])])
def test_related_legacy_answers(client: httpx.Client, product_id: int, related: list[int]) -> None:
    assert client.get(f"/products/{product_id}/related").json() == related


def test_list_is_ordered_by_id_and_paged(client: httpx.Client) -> None:
    first = client.get("/products").json()
    assert [p["id"] for p in first] == [1, 2, 3, 4, 5]
    assert "features" not in first[0]
    page2 = client.get("/products", params={"page": 2, "count": 3}).json()
    assert [p["id"] for p in page2] == [4, 5, 6]
    last = client.get("/products", params={"page": 7, "count": 5}).json()
    assert [p["id"] for p in last] == [1000007, 1000008, 1000009, 1000010, 1000011]
    assert client.get("/products", params={"page": 100, "count": 5}).json() == []


def test_huge_count_means_everything(client: httpx.Client) -> None:
    r = client.get("/products", params={"count": 9007199254740991})
    assert r.status_code == 200
    assert len(r.json()) == 35  # every product of the sample
    r = client.get("/products", params={"page": 3, "count": 9007199254740991})
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("bad", ["hello", "5.55", "-1", "0", "99999999999999999999", "2147483648", "%20"])
@pytest.mark.parametrize("suffix", ["", "/styles", "/related"])
def test_malformed_ids_are_422(client: httpx.Client, bad: str, suffix: str) -> None:
    r = client.get(f"/products/{bad}{suffix}")
    assert r.status_code == 422
    assert r.text == "Error: invalid product_id provided"


@pytest.mark.parametrize("suffix", ["", "/styles", "/related"])
def test_unknown_product_is_404(client: httpx.Client, suffix: str) -> None:
    r = client.get(f"/products/424242{suffix}")
    assert r.status_code == 404
    assert r.json() == {"error": "product not found"}


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "-1"}, {"count": "abc"}, {"count": "-1"},
                                    {"page": "1.5"}, {"count": "1e3"}, {"page": "01"}, {"count": "+5"}])
def test_bad_paging_is_422(client: httpx.Client, params: dict[str, str]) -> None:
    r = client.get("/products", params=params)
    assert r.status_code == 422 and r.text == f"Error: invalid {next(iter(params))} provided"


def test_count_zero_is_a_page_of_nothing(client: httpx.Client) -> None:
    r = client.get("/products", params={"count": "0", "page": "3"})
    assert r.status_code == 200 and r.json() == []


def test_openapi_and_docs(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/products", "/products/{product_id}", "/products/{product_id}/styles",
                 "/products/{product_id}/related"):
        assert "get" in spec["paths"][path]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text


def test_wrong_method_and_unknown_path(client: httpx.Client) -> None:
    assert client.post("/products/1", content=b"{}").status_code == 405
    assert client.get("/no/such/path").status_code == 404
