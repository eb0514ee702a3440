"""The catalogue plan that every generator agrees on: which category (and so which kind of
characteristics) each product id has. Reviews use it for characteristic names; it is a pure
function of (seed, product id), so no generator has to read another's output.
"""

from __future__ import annotations

from ..core.generating import stream

CLOTHING = ("Jacket", "Pants", "Shirt", "Trousers", "Suit", "Romper", "Sweatpants", "Tank Top", "Shorts",
            "Skirt", "Coat", "Slacks", "Hoodie", "Dress", "Sweater", "Joggers", "Cap", "Blazer")
SHOES = ("Shoes", "Boots", "Kicks", "Sandals", "Heels", "Slippers", "Dress Shoes", "Basketball Shoes")
ACCESSORIES = ("Sunglasses", "Backpack", "Belt", "Watch", "Hat", "Scarf", "Socks", "Accessories")

# The kinds of characteristics a product's reviews rate (legacy-csv.md, column notes).
CHARACTERISTICS = {
    "clothing": ("Fit", "Length", "Comfort", "Quality"),
    "shoes": ("Size", "Width", "Comfort", "Quality"),
    "accessories": ("Quality",),
}

# Categories of the real head and tail products (legacy sample), which keep their real category.
REAL_CATEGORIES = {
    1: "Jackets", 2: "Accessories", 3: "Pants", 4: "Pants", 5: "Kicks", 6: "Kicks", 7: "Dress Shoes",
    8: "Kicks", 9: "Kicks", 10: "Accessories", 11: "Basketball Shoes", 12: "Shirt", 13: "Trousers",
    14: "Suit", 15: "Romper", 16: "Sweatpants", 17: "Tank Top", 18: "Shorts", 19: "Suit",
    999996: "Shorts", 999997: "Shirt", 999998: "Skirt", 999999: "Coat", 1000000: "Coat",
    1000001: "Sunglasses", 1000002: "Backpack", 1000003: "Jacket", 1000004: "Slacks",
    1000005: "Sweatpants", 1000006: "Shoes", 1000007: "Boots", 1000008: "Slacks", 1000009: "Hoodie",
    1000010: "Pants", 1000011: "Shoes",
}

_ALL = CLOTHING + SHOES + ACCESSORIES
_WEIGHTS = [6] * len(CLOTHING) + [5] * len(SHOES) + [3] * len(ACCESSORIES)
_KIND = {**{c: "clothing" for c in CLOTHING}, **{c: "shoes" for c in SHOES},
         **{c: "accessories" for c in ACCESSORIES}, "Jackets": "clothing"}


def category(seed: int, product_id: int) -> str:
    real = REAL_CATEGORIES.get(product_id)
    if real is not None:
        return real
    # one stream per block of 4096 ids keeps this cheap; position inside the block picks the draw
    block, pos = divmod(product_id, 4096)
    rng = stream(seed, "category", block)
    return rng.choices(_ALL, _WEIGHTS, k=pos + 1)[pos]


def categories(seed: int, first: int, last: int) -> list[str]:
    """Categories of products first..last inclusive, fast (one draw per block)."""
    out: list[str] = []
    pid = first
    while pid <= last:
        block = pid // 4096
        block_last = min(last, (block + 1) * 4096 - 1)
        draws = stream(seed, "category", block).choices(_ALL, _WEIGHTS, k=block_last - block * 4096 + 1)
        for p in range(pid, block_last + 1):
            out.append(REAL_CATEGORIES.get(p) or draws[p - block * 4096])
        pid = block_last + 1
    return out


def kind(category_name: str) -> str:
    return _KIND.get(category_name, "clothing")


def characteristic_names(seed: int, product_id: int) -> tuple[str, ...]:
    return CHARACTERISTICS[kind(category(seed, product_id))]
