"""What crm-refine and crm-eval share: refinement options, progress bars, and the one-line error contract."""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Callable

from tqdm import tqdm

from crm_core.device import DEVICES
from crm_core.errors import CRMError
from crm_core.metrics import Scores
from crm_core.options import DEFAULT_RATIOS, RefineOptions

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
COLUMNS = (
    ("iou", "IoU", ".2f"),
    ("mean_iou", "mean IoU", ".2f"),
    ("mba", "mBA", ".2f"),
    ("seconds_per_image", "s/image", ".3f"),
    ("n", "n", "d"),
)


def add_refine_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("refinement")
    group.add_argument(
        "--ratios", type=float, nargs="+", default=list(DEFAULT_RATIOS), metavar="R",
        help="increasing rescale ratios in (0, 1], one stage each (default: %(default)s)",
    )
    group.add_argument(
        "--roi", choices=("band", "full"), default="band",
        help="band: refine only the uncertain band around the edge (fast); full: every pixel (the paper's algorithm)",
    )
    group.add_argument(
        "--min-side", type=int, default=RefineOptions.min_side, metavar="PX",
        help="skip stages whose rescaled photo is shorter than PX on its long side; 0 runs every ratio (default: %(default)s)",
    )
    group.add_argument(
        "--no-snap", dest="snap", action="store_false",
        help="skip the step that moves the refined edge onto the photo's edges",
    )
    group.add_argument(
        "--no-matte", dest="matte", action="store_false",
        help="skip the last step that solves the edge band as a matte (hair, fur); with --no-snap: the model alone",
    )
    group.add_argument("--device", choices=DEVICES, default="auto", help="where the model runs (default: auto)")
    group.add_argument("--weights", metavar="FILE", help="a CRM checkpoint (default: the bundled one)")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of text")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of unexpected errors")


def refine_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RefineOptions:
    try:
        return RefineOptions(ratios=tuple(args.ratios), roi=args.roi, min_side=args.min_side, snap=args.snap,
                             matte=args.matte).validated()
    except ValueError as err:
        parser.error(str(err))


def progress(args: argparse.Namespace, total: int, unit: str, desc: str) -> tqdm:
    """A bar on stderr, only for a person watching: never with --json and never into a pipe or log file."""
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=args.json or not sys.stderr.isatty(), leave=False)


def say(prog: str, message: str) -> None:
    """A note on stderr that does not tear an active progress bar."""
    tqdm.write(f"{prog}: {message}", file=sys.stderr)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def unexpected(err: BaseException) -> str:
    return f"unexpected {type(err).__name__}: {one_line(err)} (rerun with --debug to see the traceback)"


def run(prog: str, parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int], argv: list[str] | None) -> int:
    """Parse, run, and turn every failure into one line on stderr with a meaningful exit code:
    2 for a CRMError (bad input, missing weights), 130 for Ctrl-C, 1 for a bug (traceback with --debug)."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, or a usage error argparse already printed
        return int(done.code or 0)
    try:
        return body(args)
    except SystemExit as done:  # a usage error found after parsing (parser.error)
        return int(done.code or 0)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CRMError as err:
        print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        print(f"{prog}: error: {unexpected(err)}", file=sys.stderr)
        return EXIT_FAILED


def table(title: str, scores: dict[str, Scores], first: str = "method") -> str:
    """A text table of scores, one row per method (or category), the columns of COLUMNS."""
    width = max(len(first), *(len(m) for m in scores)) + 2
    lines = [title, first.ljust(width) + "".join(f"{head:>10}" for _, head, _ in COLUMNS)]
    for method, s in scores.items():
        row = s.row()
        cells = []
        for key, _, fmt in COLUMNS:
            value = row[key]
            untimed = key == "seconds_per_image" and s.seconds == 0
            cells.append(f"{'-':>10}" if value is None or untimed else f"{value:>10{fmt}}")
        lines.append(method.ljust(width) + "".join(cells))
    return "\n".join(lines)
