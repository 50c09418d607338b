"""The segment builder: elements joined as given when they hold no delimiter, cleaned when they do."""

from __future__ import annotations

import random

import pytest

from olly.edi.syntax import Delimiters
from olly.edi.writer import Element, SegmentBuilder

DEFAULT = Delimiters.default()


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        (("1", "4150.00", None, ""), "CLP*1*4150.00"),
        (("A*B", "C:D", "E~F", "G^H"), "CLP*A B*C D*E F*G H"),
        ((["HC", "99213", "25", None, ""], "90.00"), "CLP*HC:99213:25*90.00"),
        ((["HC", "A:B"], None, "X"), "CLP*HC:A B**X"),
        (([None, ""], "1"), "CLP**1"),
        ((None, None), "CLP"),
    ],
)
def test_a_segment_is_its_elements_with_delimiters_cleaned_and_trailing_empties_dropped(
    elements: tuple[Element, ...], expected: str
) -> None:
    assert SegmentBuilder(DEFAULT).render("CLP", elements) == expected


def test_the_fast_join_renders_as_cleaning_each_element_does() -> None:
    """Random segments (delimiters in the elements, composites, empties, delimiters that collide)
    render as the element-wise way renders them."""
    rng = random.Random(835)
    alphabet = ["A", "1", " ", "*", ":", "~", "^", "|", ">", "-"]

    def element() -> Element:
        draw = rng.random()
        if draw < 0.2:
            return None
        if draw < 0.45:
            return [rng.choice([None, "", "X", "*", "a:b", "~"]) for _ in range(rng.randint(0, 4))]
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))

    for delimiters in (DEFAULT, Delimiters("|", ">", "~", None), Delimiters("*", "*", "~", "^")):
        builder = SegmentBuilder(delimiters)
        for _ in range(3000):
            elements = tuple(element() for _ in range(rng.randint(0, 8)))
            assert builder.render("SVC", elements) == builder._render_each("SVC", elements)
