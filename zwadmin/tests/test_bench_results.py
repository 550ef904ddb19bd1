"""``make bench`` publishes its results table into docs/performance.md (bench/run.py), never a hand copy.

Plain functions, no database: bench/ itself is outside the suite's testpaths, so its publishing step is
tested here.
"""

import pytest

from bench.run import (
    DOCS_RESULTS,
    RESULTS_BEGIN,
    RESULTS_END,
    command_line,
    render,
    replace_results,
    results_block,
    table_lines,
)

REPORT = {
    "started": "2026-11-28T14:05:09+08:00",
    "machine": {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "memory_gib": 23.5, "python": "3.11.2"},
    "rounds": 7,
    "quick": False,
}
ROWS = [
    {
        "figure": "lookup c=16 req/s",
        "candidate": 1258.0,
        "baseline": 1313.0,
        "baseline_name": "constant JsonResponse",
        "ratio": 0.958,
        "unit": "",
        "target": "≥ 0.8×",
        "met": True,
        "why": "",
    },
    {
        "figure": "admin index (fleet dashboard)",
        "candidate": 126.0,
        "baseline": 12.6,
        "baseline_name": "admin password page",
        "ratio": 10.0,
        "unit": "ms",
        "target": "≤ 300 ms",
        "met": True,
        "why": "",
    },
]
PAGE = f"# Performance\n\nBefore.\n\n{RESULTS_BEGIN}\nthe previous run's table\n{RESULTS_END}\n\nAfter.\n"


def test_the_block_between_the_markers_is_replaced_and_the_rest_kept():
    page = replace_results(PAGE, "the new table")

    assert page == f"# Performance\n\nBefore.\n\n{RESULTS_BEGIN}\nthe new table\n{RESULTS_END}\n\nAfter.\n"


def test_publishing_the_same_run_twice_changes_nothing():
    once = replace_results(PAGE, "the new table")

    assert replace_results(once, "the new table") == once


@pytest.mark.parametrize(
    "page",
    [
        "# Performance\n",
        f"{RESULTS_BEGIN}\nno end\n",
        f"no begin\n{RESULTS_END}\n",
        f"{RESULTS_END}\nbackwards\n{RESULTS_BEGIN}\n",
        f"{RESULTS_BEGIN}\n{RESULTS_END}\n{RESULTS_BEGIN}\n{RESULTS_END}\n",
    ],
)
def test_a_page_without_exactly_one_pair_of_markers_in_order_is_refused(page):
    with pytest.raises(ValueError):
        replace_results(page, "the new table")


def test_the_published_block_is_the_printed_table_with_when_where_and_how():
    block = results_block(REPORT, ROWS, "make bench")
    header, blank, *table = block.split("\n")

    assert header == (
        "Written by `make bench` on 2026-11-28: Intel(R) Xeon(R) Processor, 2 cores, 23.5 GiB, Python 3.11.2; "
        "median of 7 interleaved rounds."
    )
    assert blank == ""
    assert table == table_lines(ROWS)
    assert render(REPORT, ROWS).endswith("\n".join(table_lines(ROWS)))
    assert "| lookup c=16 req/s |  | 1,258 | 1,313 | constant JsonResponse | 0.96× | ≥ 0.8× | met |" in table
    assert table[-1] == "Every target met."


@pytest.mark.parametrize(
    ("argv", "under_make", "expected"),
    [
        ([], True, "make bench"),
        (["--only", "lookup,ingest", "--rounds", "9"], True, 'make bench BENCH_ARGS="--only lookup,ingest --rounds 9"'),
        ([], False, "python -m bench.run"),
        (["--rounds", "9"], False, "python -m bench.run --rounds 9"),
    ],
)
def test_the_command_line_is_recorded_as_it_would_be_typed_again(argv, under_make, expected):
    assert command_line(argv, under_make=under_make) == expected


def test_docs_performance_md_holds_one_results_block_to_replace():
    text = DOCS_RESULTS.read_text()

    assert replace_results(text, "x").count(RESULTS_BEGIN) == 1
    block = text[text.index(RESULTS_BEGIN) + len(RESULTS_BEGIN) : text.index(RESULTS_END)]
    assert block.strip().startswith("Written by `make bench` on ")
    assert "| figure | unit | zwadmin | baseline | baseline is | ratio | target | result |" in block
