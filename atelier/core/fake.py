"""Fast fake text in the style of the legacy data (lorem ipsum, `Steve.Witting98`, `Makenna1@gmail.com`)."""

from __future__ import annotations

import random

WORDS = (
    "a ab accusamus accusantium ad adipisci alias aliquam aliquid amet animi aperiam architecto asperiores "
    "aspernatur assumenda at atque aut autem beatae blanditiis commodi consectetur consequatur consequuntur "
    "corporis corrupti culpa cum cumque cupiditate debitis delectus deleniti deserunt dicta dignissimos "
    "distinctio dolor dolore dolorem doloremque dolores doloribus dolorum ducimus ea eaque earum eius eligendi "
    "enim eos error esse est et eum eveniet ex excepturi exercitationem expedita explicabo facere facilis fuga "
    "fugiat fugit harum hic id illo illum impedit in incidunt inventore ipsa ipsam ipsum iste itaque iure iusto "
    "labore laboriosam laborum laudantium libero magnam magni maiores maxime minima minus modi molestiae "
    "molestias mollitia nam natus necessitatibus nemo neque nesciunt nihil nisi nobis non nostrum nulla numquam "
    "obcaecati odio odit officia officiis omnis optio pariatur perferendis perspiciatis placeat porro possimus "
    "praesentium provident quae quaerat quam quas quasi qui quia quibusdam quidem quis quisquam quo quod quos "
    "ratione recusandae reiciendis rem repellat repellendus reprehenderit repudiandae rerum saepe sapiente sed "
    "sequi similique sint sit soluta sunt suscipit tempora tempore temporibus tenetur totam ullam unde ut vel "
    "velit veniam veritatis vero vitae voluptas voluptate voluptatem voluptates voluptatibus voluptatum"
).split()

FIRST_NAMES = (
    "Steve Makenna Joaquin Kristoffer Marquise Dejah Delbert Vance Leonora Evangeline Heather Alivia Brennan "
    "Cleora Damian Elton Filomena Garrett Hassie Imogene Jaleel Kaela Lamar Maude Nikko Oral Pearline Quinton "
    "Rosalind Sigmund Tressa Ulices Verla Wilburn Xander Yasmin Zackary Abagail Bernie Cyrus Della Emmett "
    "Fatima Gust Hilda Isaias Jermaine Karianne Lonnie Mavis Norbert Ottilie Pattie Reggie Sonny Tobin"
).split()

LAST_NAMES = (
    "Witting Mohr Beer Hirthe Kuhn Lind Bode Hahn Kihn Rau Feest Gislason Torp Lang Wolf Runte Kemmer Bins "
    "Ortiz Ryan Veum Fay Hane Jast Koss Legros Mann Nader Quigley Reilly Schmitt Turcotte Upton Volkman "
    "Walsh Yost Zulauf Abshire Boehm Crist Dicki Erdman Fritsch Grady Heller Jacobi Kunde Larkin Marvin"
).split()

DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com")
SEPARATORS = (".", "_", "")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def sentence(rng: random.Random, low: int = 3, high: int = 10) -> str:
    text = words(rng, rng.randint(low, high))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, low: int = 2, high: int = 6) -> str:
    return " ".join(sentence(rng, 4, 12) for _ in range(rng.randint(low, high)))


def username(rng: random.Random) -> str:
    """`Steve.Witting98`, `Joaquin44`, `Marquise_Hirthe`."""
    first = rng.choice(FIRST_NAMES)
    form = rng.random()
    if form < 0.4:
        return f"{first}{rng.randint(1, 99)}"
    sep = rng.choice(SEPARATORS)
    last = rng.choice(LAST_NAMES)
    return f"{first}{sep}{last}{rng.randint(0, 99) if form < 0.8 else ''}"


def email(rng: random.Random) -> str:
    """`Makenna1@gmail.com`, `Dejah_Mohr@hotmail.com`, `Vance.Beer@yahoo.com`."""
    first = rng.choice(FIRST_NAMES)
    if rng.random() < 0.4:
        local = f"{first}{rng.randint(1, 99)}"
    else:
        local = f"{first}{rng.choice(SEPARATORS)}{rng.choice(LAST_NAMES)}{rng.choice(('', str(rng.randint(1, 99))))}"
    return f"{local}@{rng.choice(DOMAINS)}"
