"""The one definition of the NGINX cache's keys, used both to render NGINX's maps and to list
the keys a write purges.

A cached answer's key names the resource it is about (a product or a question) and a variant
from small fixed sets, never the raw URL: so the few keys of a product can be listed and
purged one by one (an exact purge is a hash lookup; a wildcard purge would walk every file of
the cache). A request outside these sets (another `count`, page 3, an unknown `sort`, a
repeated or percent-encoded parameter, an origin not configured) is passed to the API
uncached. Answers about products themselves (`/products...`) never change after a load, so
their key is their normalized URL and no write purges them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SORTS = ("relevant", "helpful", "newest")  # /reviews; an absent sort is "relevant"
COUNTS = (5, 10, 20, 100)  # an absent count is 5
PAGES = (1, 2)  # an absent page is 1
NO_ORIGIN = "-"
UNCACHEABLE = "!"  # a key part that is not in its set: the request bypasses the cache


def origin_labels(origins: Sequence[str]) -> dict[str, str]:
    """Origin header value -> the short label keys carry ("" is a request without Origin)."""
    return {"": NO_ORIGIN, **{origin: f"o{i}" for i, origin in enumerate(origins, 1)}}


def product_keys(product_id: int, origins: Sequence[str] = ()) -> list[str]:
    """Every key of the cached answers about a product's reviews, review meta and questions."""
    keys = []
    for label in origin_labels(origins).values():
        keys += [f"r:{product_id}:{sort}:{count}:{page}:{label}"
                 for sort in SORTS for count in COUNTS for page in PAGES]
        keys.append(f"m:{product_id}:{label}")
        keys += [f"q:{product_id}:{count}:{page}:{label}" for count in COUNTS for page in PAGES]
    return keys


def question_keys(question_id: int, origins: Sequence[str] = ()) -> list[str]:
    """Every key of the cached pages of a question's answers."""
    return [f"a:{question_id}:{count}:{page}:{label}"
            for label in origin_labels(origins).values() for count in COUNTS for page in PAGES]


def keys_of_change(product_id: int, question_id: int | None, origins: Sequence[str] = ()) -> list[str]:
    keys = product_keys(product_id, origins)
    if question_id is not None:
        keys += question_keys(question_id, origins)
    return keys


def fast_fill_pattern(bound_ms: int) -> str:
    """A regex of NGINX's `$upstream_header_time` ("0.012", seconds) under `bound_ms` (a multiple
    of 10 ms below one second). Several tries ("0.001, 0.030") never match: not fast."""
    if bound_ms % 10 or not 10 <= bound_ms < 1000:
        raise ValueError("the fill bound is a multiple of 10 ms from 10 to 990")
    tens = "|".join(f"{n:02d}" for n in range(bound_ms // 10))
    return f"^0\\.(?:{tens})[0-9]$"


def _entries(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f'    "{source}" "{value}";' for source, value in pairs)


def nginx_maps(origins: Sequence[str], fill_bound_ms: int) -> str:
    """The `map` blocks that compute `$atelier_cache_key`, `$atelier_cache_skip` (1: bypass) and
    `$atelier_slow_fill` (1: an answer that took `fill_bound_ms` or more is not stored)."""
    return f"""\
# The request's path without the legacy prefix and a trailing slash (answered alike by the API).
map $uri $atelier_path {{
    "~^(?:/api/fec2/[^/]+)?(?<p>/.*?)/?$" $p;
}}
map $atelier_path $atelier_kind {{
    /reviews r;
    /reviews/meta m;
    /qa/questions q;
    "~^/qa/questions/[1-9][0-9]{{0,9}}/answers$" a;
    "~^/products(/[1-9][0-9]{{0,9}}(/styles|/related)?)?$" s;
    default "";
}}
map $atelier_path $atelier_question {{
    "~^/qa/questions/(?<q>[1-9][0-9]{{0,9}})/answers$" $q;
    default "{UNCACHEABLE}";
}}
map $arg_product_id $atelier_product {{
    "~^[1-9][0-9]{{0,9}}$" $arg_product_id;
    default "{UNCACHEABLE}";
}}
map $arg_sort $atelier_sort {{
{_entries([("", SORTS[0]), *((s, s) for s in SORTS)])}
    default "{UNCACHEABLE}";
}}
map $arg_count $atelier_count {{
{_entries([("", str(COUNTS[0])), *((str(c), str(c)) for c in COUNTS)])}
    default "{UNCACHEABLE}";
}}
map $arg_page $atelier_page {{
{_entries([("", str(PAGES[0])), *((str(p), str(p)) for p in PAGES)])}
    default "{UNCACHEABLE}";
}}
map $http_origin $atelier_origin {{
{_entries(origin_labels(origins).items())}
    default "{UNCACHEABLE}";
}}
map $atelier_kind $atelier_cache_key {{
    r "r:$atelier_product:$atelier_sort:$atelier_count:$atelier_page:$atelier_origin";
    m "m:$atelier_product:$atelier_origin";
    q "q:$atelier_product:$atelier_count:$atelier_page:$atelier_origin";
    a "a:$atelier_question:$atelier_count:$atelier_page:$atelier_origin";
    s "s:$atelier_path?$args:$atelier_origin";
    default "{UNCACHEABLE}";
}}
# Only plain parameters (no percent-encoding, no '+'), each of ours at most once: what NGINX's
# $arg_* read is then exactly what the API reads.
map $args $atelier_args_plain {{
    "" 1;
    "~^[A-Za-z0-9_=&]+$" 1;
    default 0;
}}
map $args $atelier_args_repeated {{
    "~(?:^|&)(product_id|sort|count|page)=[^&]*&(?:.*&)?\\1=" 1;
    default 0;
}}
map "$request_method:$atelier_args_plain$atelier_args_repeated:$atelier_cache_key" $atelier_cache_skip {{
    "~^(GET|HEAD):10:[^{UNCACHEABLE}]*$" 0;
    default 1;
}}
# Evaluated when the answer's header arrives: only an answer that came within the bound is
# stored, so every stored answer left NGINX for the API at most that long before it was stored;
# a write purges again once that long has passed after its commit (purger.py).
map $upstream_header_time $atelier_slow_fill {{
    "~{fast_fill_pattern(fill_bound_ms)}" 0;
    default 1;
}}
"""
