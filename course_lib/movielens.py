"""MovieLens ``ml-latest-small``: ratings, movies and tags, loaded from the verified files in ``data/``.

Defined in: notebooks/10_recommendation.ipynb

100,836 ratings by 610 users on 9,742 movies, and 3,683 tags (GroupLens; F. M. Harper & J. A. Konstan
2015, "The MovieLens Datasets: History and Context"). Redistributed under GroupLens' license:
research and education only, no commercial use (``data/movielens_latest_small/README.md``).

Every movie gets an **item index** 1 … 9,742 in the order of ``movies.csv`` (index 0 is kept for
padding in sequence models); users keep their ``userId`` order as user indices 0 … 609.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pandas as pd

from .checks import check_text
from .data import load_text
from .errors import DataFileError

FOLDER = "movielens_latest_small"
EXPECTED = {"ratings": 100_836, "movies": 9_742, "tags": 3_683, "users": 610}


@dataclass
class MovieLens:
    """The three tables, with item indices: ``ratings`` (user, item, rating, timestamp),
    ``movies`` (item, movieId, title, genres, year), ``tags`` (user, item, tag, timestamp).

    Defined in: notebooks/10_recommendation.ipynb
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    tags: pd.DataFrame

    @property
    def n_users(self) -> int:
        return int(self.ratings.user.max()) + 1

    @property
    def n_items(self) -> int:
        """Number of item ids including the padding index 0."""
        return len(self.movies) + 1

    def title(self, item: int) -> str:
        return str(self.movies.title.iat[int(item) - 1])


def _csv(name: str) -> pd.DataFrame:
    text = load_text(f"{FOLDER}/{name}.csv")  # checksum-verified
    return pd.read_csv(io.StringIO(text), dtype={"title": str, "genres": str, "tag": str})


def load_movielens() -> MovieLens:
    """Read and check the bundled MovieLens files (row counts as documented by GroupLens).

    Defined in: notebooks/10_recommendation.ipynb
    """
    ratings, movies, tags = _csv("ratings"), _csv("movies"), _csv("tags")
    for name, df in (("ratings", ratings), ("movies", movies), ("tags", tags)):
        if len(df) != EXPECTED[name]:
            raise DataFileError(f"{FOLDER}/{name}.csv has {len(df):,} rows, expected {EXPECTED[name]:,}")
    movies = movies.reset_index(drop=True)
    movies.insert(0, "item", movies.index + 1)
    movies["year"] = movies.title.map(_year)
    item_of = dict(zip(movies.movieId, movies.item))
    users = {u: i for i, u in enumerate(sorted(ratings.userId.unique()))}
    if len(users) != EXPECTED["users"]:
        raise DataFileError(f"{FOLDER}/ratings.csv has {len(users)} users, expected {EXPECTED['users']}")
    missing = set(ratings.movieId) - set(item_of)
    if missing:
        raise DataFileError(f"ratings name movies that movies.csv lacks: {sorted(missing)[:5]}")
    ratings = pd.DataFrame(
        {
            "user": ratings.userId.map(users).astype("int64"),
            "item": ratings.movieId.map(item_of).astype("int64"),
            "rating": ratings.rating.astype(float),
            "timestamp": ratings.timestamp.astype("int64"),
        }
    )
    tags = tags[tags.userId.isin(users) & tags.movieId.isin(item_of)]
    tags = pd.DataFrame(
        {
            "user": tags.userId.map(users).astype("int64"),
            "item": tags.movieId.map(item_of).astype("int64"),
            "tag": tags.tag.astype(str),
            "timestamp": tags.timestamp.astype("int64"),
        }
    ).reset_index(drop=True)
    return MovieLens(ratings, movies, tags)


def _year(title: str):
    m = re.search(r"\((\d{4})\)\s*$", title)
    return int(m.group(1)) if m else None


def title_words(title: str) -> list[str]:
    """Lower-case words of a title without its year: ``"Toy Story (1995)"`` → ``["toy", "story"]``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    title = re.sub(r"\(\d{4}\)\s*$", "", check_text(title, "title"))
    return re.findall(r"[^\W_]+", title.lower())
