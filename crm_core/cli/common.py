"""What crm-refine and crm-eval share: refinement options, progress bars, and the one-line error contract."""

from __future__ import annotations

import argparse
import json
import re
import sys
import traceback
from typing import Callable, NoReturn

from PIL import ImageColor
from tqdm import tqdm

from crm_core.device import DEVICES
from crm_core.errors import CRMError
from crm_core.metrics import Scores
from crm_core.options import DEFAULT_RATIOS, SMALL_PHOTO_SCALE, RefineOptions

EXIT_FAILED = 1
EXIT_INPUT = 2  # bad input, missing weights, a usage error: something the person can fix
EXIT_INTERRUPTED = 130
NUMBER = re.compile(r"-\.?\d")  # a negative number given as a value (--shift-edge -1), not an option
COLUMNS = (
    ("iou", "IoU", ".2f"),
    ("mean_iou", "mean IoU", ".2f"),
    ("mba", "mBA", ".2f"),
    ("seconds_per_image", "s/image", ".3f"),
    ("n", "n", "d"),
)
# shown when some image of the table had a true alpha (NAME_alpha.png): matting scores of the soft output
ALPHA_COLUMNS = (
    ("sad", "SAD", ".2f"),
    ("mse", "MSE", ".3f"),
    ("grad", "Grad", ".3f"),
    ("haze", "haze", ".2f"),
    ("n_alpha", "n alpha", "d"),
)


def add_refine_arguments(parser: "Parser") -> None:
    group = parser.add_argument_group("refinement")
    actions = []

    def add(*names: str, **kwargs) -> None:
        actions.append(group.add_argument(*names, **kwargs))

    add(
        "--ratios", type=float, nargs="+", default=list(DEFAULT_RATIOS), metavar="R",
        help="increasing rescale ratios in (0, 1], one stage each (default: %(default)s)",
    )
    add(
        "--roi", choices=("band", "full"), default="band",
        help="band: refine only the uncertain band around the edge (fast); full: every pixel (the paper's algorithm)",
    )
    add(
        "--min-side", type=int, default=RefineOptions.min_side, metavar="PX",
        help="skip stages whose rescaled photo is shorter than PX on its long side (a photo wider than 2:1 counts it as "
             "twice its short side); 0 runs every ratio (default: %(default)s)",
    )
    add(
        "--max-side", type=int, default=RefineOptions.max_side, metavar="PX",
        help="in band mode, skip stages whose rescaled photo is longer than PX on its long side (the ×1 stage of a "
             "6K photo, which buys nothing measurable there); 0 runs every ratio (default: %(default)s)",
    )
    add(
        "--upscale-below", type=int, default=RefineOptions.upscale_below, metavar="PX",
        help=f"refine a photo whose long side is at most PX at {SMALL_PHOTO_SCALE} times its size, unless its mask is "
             "a polygon label kept as drawn; 0 never does (default: %(default)s)",
    )
    add(
        "--no-snap", dest="snap", action="store_false",
        help="skip the step that moves the refined edge onto the photo's edges",
    )
    add(
        "--no-matte", dest="matte", action="store_false",
        help="skip the last step that solves the edge band as a matte (hair, fur); with --no-snap: the model alone",
    )
    add(
        "--no-trust", dest="trust_edges", action="store_false",
        help="let every stage move every edge, even where the coarse mask's edge already lies on an edge of the photo",
    )
    add(
        "--no-judge", dest="judge", action="store_false",
        help="keep the leashed refinement at a careful polygon's edge, without the edge judge's last word there",
    )
    add(
        "--polygon", action="store_true",
        help="each coarse mask is a polygon label as drawn (e.g. rasterised from COCO): hold it as one however "
             "tightly it was traced (labels from --coco/--labelme/--yolo polygons are held so without it)",
    )
    add(
        "--shift-edge", type=float, default=0.0, metavar="PX",
        help="last, move the edge outward by PX pixels (inward when negative), e.g. -1 to drop a light fringe",
    )
    add(
        "--smooth", type=float, default=0.0, metavar="PX",
        help="last, smooth the outline over PX pixels: bumps and notches narrower than about 2×PX go, the edge stays sharp",
    )
    add("--device", choices=DEVICES, default="auto", help="where the model runs (default: auto)")
    add("--weights", metavar="FILE", help="a CRM checkpoint (default: the bundled one)")
    parser.refinement = tuple(actions)


def colour_argument(text: str) -> tuple[int, int, int]:
    """A colour as typed on the command line: a name (white), #RRGGBB, or R,G,B (0-255 each)."""
    parts = [part.strip() for part in text.split(",")]
    try:  # #RGBA and #RRGGBBAA are refused: a mistyped #ff0000 as #ff00 read as yellow (a tester)
        rgb = tuple(int(part) for part in parts) if len(parts) == 3 else \
            ImageColor.getrgb(text) if not re.fullmatch(r"#(\w{4}|\w{8})", text.strip()) else ()
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise argparse.ArgumentTypeError(f"{text!r} is not a colour; give a name such as white, #RRGGBB or R,G,B")
    return rgb


def refinement_given(parser: "Parser", args: argparse.Namespace) -> list[str]:
    """The refinement options (``add_refine_arguments``) given values other than their defaults, by name: for a
    command that refines nothing with them to refuse (crm-eval --pred exited 0 with --ratios and --no-matte, the
    same table as without them)."""
    return [action.option_strings[0] for action in parser.refinement if getattr(args, action.dest) != action.default]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of text")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of unexpected errors")


class Parser(argparse.ArgumentParser):
    """argparse with every usage error as one line (what is wrong, where to look), exit 2: the usage block
    argparse prints first buries the one line that says what to fix."""

    failure: str | None = None  # the usage error's line, for ``run`` to repeat as JSON when --json was given
    refinement: tuple[argparse.Action, ...] = ()  # the options add_refine_arguments added (refinement_given)

    def __init__(self, *args, **kwargs) -> None:
        # no abbreviations: "--ratio 0.5" was taken as --ratios without a word, and a later option that shares
        # the prefix would change what an old script means
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        """A mistyped option is named first: argparse reported "-o/--output is required" for "--ouptut x.png"."""
        given = sys.argv[1:] if args is None else list(args)
        for token in given:
            if token == "--":
                break
            name = token.split("=", 1)[0]
            attached = not token.startswith("--") and token[:2] in self._option_string_actions  # -ofile.png
            if token.startswith("-") and token != "-" and not NUMBER.match(token) and not attached \
                    and name not in self._option_string_actions:
                self.error(f"unrecognized option {name}")
        return super().parse_known_args(given, namespace)

    def error(self, message: str) -> NoReturn:
        self.failure = f"{message} (see {self.prog} --help)"
        self.exit(EXIT_INPUT, f"{self.prog}: error: {self.failure}\n")


class UsageError(CRMError):
    """Options that parse but do not go together; reported like any other error (one line, JSON with --json)."""


def refine_options(args: argparse.Namespace) -> RefineOptions:
    try:
        return RefineOptions(ratios=tuple(args.ratios), roi=args.roi, min_side=args.min_side, max_side=args.max_side,
                             upscale_below=args.upscale_below,
                             snap=args.snap, matte=args.matte, trust_edges=args.trust_edges,
                             judge=args.judge, polygon=args.polygon, shift_edge=args.shift_edge, smooth=args.smooth).validated()
    except ValueError as err:  # the library names its field (shift_edge); the command line, its option
        raise UsageError(re.sub(r"^([a-z_]+) must", lambda m: f"--{m[1].replace('_', '-')} must", str(err))) from None


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
    2 for a CRMError (bad input, missing weights), 130 for Ctrl-C, 1 for a bug (traceback with --debug).
    With --json the failure is also one JSON object on stdout, so a script reading stdout always gets JSON."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, or a usage error argparse already printed
        failure = getattr(parser, "failure", None)
        if failure and "--json" in (sys.argv[1:] if argv is None else [str(a) for a in argv]):
            print(json.dumps({"error": failure, "exit_code": int(done.code)}))  # a script reading stdout gets JSON
        return int(done.code or 0)
    try:
        return body(args)
    except KeyboardInterrupt:  # said: what was written stays usable, and how a long run goes on from there
        message = "interrupted (Ctrl-C); every file written is whole"
        from crm_core.cli.dataset import KINDS  # here: that module builds on this one
        if not getattr(args, "resume", False) and (getattr(args, "big", None) or any(
                getattr(args, kind, None) for kind in KINDS)):  # a run over many photos, not told to resume yet
            message += "; run the same command with --resume to go on where it stopped"
        if args.json:
            print(json.dumps({"error": message, "exit_code": EXIT_INTERRUPTED}))
        say(prog, message)
        return EXIT_INTERRUPTED
    except CRMError as err:
        return fail(prog, args, one_line(err), EXIT_INPUT)
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        return fail(prog, args, unexpected(err), EXIT_FAILED)


def fail(prog: str, args: argparse.Namespace, message: str, code: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": message, "exit_code": code}))
    return code


def table(title: str, scores: dict[str, Scores], first: str = "method") -> str:
    """A text table of scores, one row per method (or category): the columns of COLUMNS, and those of
    ALPHA_COLUMNS when some image had a true alpha (SAD and Grad in thousands, MSE and haze ×10³)."""
    width = max(len(first), *(len(m) for m in scores)) + 2
    columns = COLUMNS + (ALPHA_COLUMNS if any(s.row()["n_alpha"] for s in scores.values()) else ())
    lines = [title, first.ljust(width) + "".join(f"{head:>10}" for _, head, _ in columns)]
    for method, s in scores.items():
        row = s.row()
        cells = []
        for key, _, fmt in columns:
            value = row[key]
            untimed = key == "seconds_per_image" and s.seconds == 0
            cells.append(f"{'-':>10}" if value is None or untimed else f"{value:>10{fmt}}")
        lines.append(method.ljust(width) + "".join(cells))
    return "\n".join(lines)
