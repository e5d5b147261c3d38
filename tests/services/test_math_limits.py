"""Lengths a formula gives KaTeX are bounded to ±20em in every unit and form; fair sizes and text are untouched."""

from __future__ import annotations

import pytest

from services.math_limits import bound_math_sizes
from services.rendering import prepare_markdown

BOUNDED = [
    (r"\rule{9999em}{9999em}", r"\rule{20em}{20em}"),
    (r"\rule[-500em]{1em}{2em}", r"\rule[-20em]{1em}{2em}"),
    (r"\kern-9999em x", r"\kern-20em x"),
    (r"\kern9999pt", r"\kern200pt"),
    (r"\mkern 99999mu", r"\mkern 360mu"),  # \mkern takes only mu: the unit is kept
    (r"\hspace*{1000cm}", r"\hspace*{7.029cm}"),
    (r"\hskip -  9999em plus 1fil", r"\hskip -  20em plus 1fil"),
    (r"a \\[9999em] b", r"a \\[20em] b"),
    (r"\raisebox{-300in}{x}", r"\raisebox{-2.767in}{x}"),
    (r"\genfrac{(}{)}{9999em}{0}{a}{b}", r"\genfrac{(}{)}{20em}{0}{a}{b}"),
    (r"\above 9999em", r"\above 20em"),
    (r"\def\arraystretch{9999}", r"\def\arraystretch{4}"),
    (r"\renewcommand{\arraystretch}{50}", r"\renewcommand{\arraystretch}{4}"),
]
UNCHANGED = [
    r"\rule{1em}{0.5ex}", r"\rule{20em}{1in}", r"\text{100cm of rope}", r"x^{100} + 9999", r"\kernel", r"\quad\qquad",
    r"\kern 9999 sp",  # 9999 sp is a hair's breadth
]


@pytest.mark.parametrize(("latex", "expected"), BOUNDED)
def test_oversized_lengths_are_bounded(latex: str, expected: str) -> None:
    assert bound_math_sizes(latex) == expected


@pytest.mark.parametrize("latex", UNCHANGED)
def test_fair_sizes_and_text_are_unchanged(latex: str) -> None:
    assert bound_math_sizes(latex) == latex


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (r"Box $\rule{9999em}{9999em}$ here", r"Box $\rule{20em}{20em}$ here"),
        (r"\( \kern-9999em x \)", r"$\kern-20em x$"),
        ("$$\n\\rule{9999em}{1em}\n$$", "$$\n\\rule{20em}{1em}\n$$"),
        (r"\[ \hspace{500cm} \]", "$$\n\\hspace{7.029cm}\n$$"),
        ("`$\\rule{9999em}{1em}$` in code is left alone", "`$\\rule{9999em}{1em}$` in code is left alone"),
    ],
)
def test_every_math_form_in_a_reply_is_bounded(reply: str, shown: str) -> None:
    assert prepare_markdown(reply) == shown


@pytest.mark.parametrize(
    "formula",
    [
        r"$\def\r#1{\rule{#1em}{#1em}}\r{9999}$",  # the length is built from an argument
        r"\( \let\r\rule \r{9999em}{9999em} \)",  # an alias of \rule
        r"$\newcommand{\gap}[1]{\hspace{#1}}\gap{9999em}$",
        r"$\def\s{99}\def\arraystretch{\s}\begin{array}{c}a\\b\end{array}$",
    ],
)
def test_a_formula_that_builds_its_own_sizes_is_shown_as_source(formula: str) -> None:
    assert prepare_markdown(f"See {formula} here") == f"See `{formula}` here"


@pytest.mark.parametrize(
    "formula", [r"$\newcommand\R{\mathbb R} x \in \R$", r"$\def\arraystretch{1.5}\begin{array}{c}a\\b\end{array}$"],
)
def test_macros_without_sizes_still_render_as_math(formula: str) -> None:
    assert prepare_markdown(formula) == formula
