"""`livesep separate`: extract (or remove) described sounds from audio files.

    livesep separate INPUT [INPUT ...] --query "a dog barking" [--query ...]
    livesep separate INPUT --keep "a voice" [--keep ...] --remove "the wind" [--remove ...]
                     [-o OUT | --out-dir DIR] [--mode extract|remove]
                     [--bundle PATH | --checkpoint PATH [--clap-checkpoint PATH]]
    livesep separate --batch jobs.csv    # columns: input,query,output[,mode]

Each --query is one request, one output ("voice, not wind" keeps the voice and removes
the wind: `livesep.query`); --keep/--remove name the sounds of one request without
parsing. Every (input, queries) pair is a job; the model and text encoder are loaded once for all
jobs. A failing job is reported on one line and the others go on; the exit status is 1 if
any job failed. Outputs are written atomically and never replace the input (nor an
existing file without --overwrite). The plan is checked before any work: no job may write
another job's input, and no two outputs may be the same file.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from livesep.atomic import clean_stale_temps
from livesep.bundle import default_bundle_path, load_bundle
from livesep.commands.bundle import add_expect_digest
from livesep.errors import LivesepError
from livesep.query import TEXT_SHOWN, Request
from livesep.separate import MODES, Separator
from livesep.terminal import printable

HELP = "separate files by text query (offline, any length, constant memory)"
NAME_PATTERN = "{stem}.{query}{ext}"  # --out-dir naming; remove mode prefixes "without-"
KEEP_EXTENSIONS = (".wav", ".flac", ".ogg")  # others (e.g. .mp3) are written as .wav
SLUG_MAX = 60  # characters of a query kept in a file name


@dataclass
class Job:
    """One input separated by one or more queries into one output per query."""

    input: Path
    queries: list[str]
    outputs: list[Path]
    mode: str
    keep: tuple[str, ...] = ()  # --keep/--remove: one request given as parts
    remove: tuple[str, ...] = ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="audio files")
    parser.add_argument(
        "-q",
        "--query",
        action="append",
        default=[],
        help="what to separate; repeat for several outputs. Keep and remove in one query: "
        "'voice, not wind', 'keep the guitar and the drums, remove the crowd', "
        "'everything but the dog' (a removal phrase removes whatever --mode says)",
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="SOUND",
        help="a sound to keep, as written (repeatable; with --remove: one output)",
    )
    parser.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="SOUND",
        help="a sound to remove, as written (repeatable; alone: mixture minus the sounds)",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument(
        "-o",
        "--output",
        help="output file (one input, one query) or a pattern with {stem} and {query}",
    )
    out.add_argument("--out-dir", help=f"output folder; files named {NAME_PATTERN}")
    parser.add_argument("--mode", choices=MODES, default="extract", help="remove = mix - target")
    parser.add_argument("--batch", metavar="CSV", help="jobs file: input,query,output[,mode]")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--bundle", help="model bundle directory (default: models/default/)")
    model.add_argument("--checkpoint", help="official AudioSep ResUNet30 checkpoint (torch)")
    parser.add_argument(
        "--no-snap",
        action="store_true",
        help="condition on the raw query embedding instead of snapping it "
        "onto the bundle's training captions (for sounds the model was not trained on)",
    )
    parser.add_argument(
        "--no-expert",
        action="store_true",
        help="never send speech queries to the speech expert (DeepFilterNet3, the "
        "'speech' extra); the environment variable LIVESEP_NO_EXPERT=1 does the same",
    )
    parser.add_argument("--clap-checkpoint", help="CLAP text encoder for --checkpoint")
    parser.add_argument(
        "--clap-tokenizer",
        help="folder with RoBERTa's vocab.json + merges.txt for CLAP "
        "(default: roberta-base from the local Hugging Face cache)",
    )
    add_expect_digest(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def slug(query: str) -> str:
    """File-name-safe form of a query: "A dog, barking!" -> "a-dog-barking"."""
    text = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")
    return text[:SLUG_MAX].rstrip("-") or "query"


def slugs(queries: list[str]) -> list[str]:
    """One distinct slug per query: a repeated slug gets -2, -3, ... ("!!" and "??" both
    slug to "query": "query", "query-2")."""
    out: list[str] = []
    for query in queries:
        base = name = slug(query)
        n = 1
        while name in out:
            n += 1
            name = f"{base}-{n}"
        out.append(name)
    return out


def output_name(input: Path, query_slug: str, mode: str, out_dir: Path) -> Path:
    """`{stem}.{query-slug}{ext}` in `out_dir` ("without-{slug}" in remove mode)."""
    ext = input.suffix.lower() if input.suffix.lower() in KEEP_EXTENSIONS else ".wav"
    name = query_slug if mode == "extract" else f"without-{query_slug}"
    return out_dir / NAME_PATTERN.format(stem=input.stem, query=name, ext=ext)


def _parts_label(keep: list[str], remove: list[str]) -> str:
    """The --out-dir name of a --keep/--remove request: 'voice' or 'voice-without-wind'."""
    kept = " and ".join(keep)
    removed = "without " + " and ".join(remove) if remove else ""
    return f"{kept} {removed}".strip()


def jobs_from_args(args: argparse.Namespace) -> list[Job]:
    if not args.inputs:
        raise LivesepError("no input: give INPUT files or --batch CSV")
    if (args.keep or args.remove) and args.query:
        raise LivesepError("give --query, or --keep/--remove, not both")
    if args.keep or args.remove:
        label = _parts_label(args.keep, args.remove)
        jobs = jobs_from_args_queries(args, [label])
        for job in jobs:
            job.keep, job.remove = tuple(args.keep), tuple(args.remove)
        return jobs
    if not args.query:
        raise LivesepError("no --query: describe the sound to separate")
    return jobs_from_args_queries(args, list(args.query))


def jobs_from_args_queries(args: argparse.Namespace, queries: list[str]) -> list[Job]:
    """One job per input, with one output per query."""
    single = len(args.inputs) == 1 and len(queries) == 1
    if args.output and not single and "{query}" not in args.output:
        raise LivesepError(f"-o {args.output}: several outputs need {{query}} in the pattern")
    if args.output and len(args.inputs) > 1 and "{stem}" not in args.output:
        raise LivesepError(f"-o {args.output}: several inputs need {{stem}} in the pattern")
    jobs = []
    names = slugs(queries)  # one distinct file name per query
    for name in args.inputs:
        src = Path(name)
        if args.output:
            outs = [_format(args.output, src.stem, q) for q in names]
        else:
            out_dir = Path(args.out_dir) if args.out_dir else src.parent
            outs = [output_name(src, q, args.mode, out_dir) for q in names]
        jobs.append(Job(src, list(queries), outs, args.mode))
    return jobs


def check_plan(jobs: list[Job]) -> None:
    """Refuse a plan where a job writes another job's input or two outputs coincide.

    Checked before any work, so a batch never processes a file an earlier job replaced,
    and no output silently replaces another.

    Raises:
        LivesepError: naming the two jobs and the file.
    """
    writers: dict[object, int] = {}  # file identity -> the job writing it
    for i, job in enumerate(jobs, start=1):
        for out in job.outputs:
            j = writers.setdefault(_identity(out), i)
            if j != i or job.outputs.count(out) > 1:
                raise LivesepError(
                    f"jobs {j} and {i} both write {printable(str(out))}; give each its own "
                    "output"
                )
    for i, job in enumerate(jobs, start=1):
        j = writers.get(_identity(job.input), i)
        if j != i:
            raise LivesepError(
                f"job {j} writes {printable(str(job.input))}, which is job {i}'s input; "
                "write the outputs elsewhere"
            )


def _identity(path: Path) -> object:
    """What names one file: (device, inode) when it exists (links, case), else its path."""
    try:
        st = path.stat()
        return (st.st_dev, st.st_ino)
    except OSError:
        return str(path.resolve())


def _format(pattern: str, stem: str, query: str) -> Path:
    try:
        return Path(pattern.format(stem=stem, query=query))
    except (KeyError, ValueError, IndexError):
        raise LivesepError(
            f"-o {pattern}: only {{stem}} and {{query}} may appear in braces"
        ) from None


def jobs_from_csv(path: Path, default_mode: str, out_dir: str | None) -> list[Job]:
    """Read a jobs file; relative paths are relative to the CSV's folder."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = set(rows[0]) if rows else set()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LivesepError(f"{path}: unreadable jobs file ({exc})") from None
    if not rows:
        raise LivesepError(f"{path}: no jobs (expected a header input,query,output[,mode])")
    if not {"input", "query"} <= header:
        raise LivesepError(f"{path}: header needs columns input,query,output[,mode]")
    base = path.parent
    jobs = []
    for line, row in enumerate(rows, start=2):
        mode = (row.get("mode") or default_mode).strip()
        if mode not in MODES:
            raise LivesepError(f"{path}:{line}: mode {mode!r} is not one of {MODES}")
        src = base / (row["input"] or "").strip()
        query = row["query"] or ""
        if row.get("output"):
            out = base / row["output"].strip()
        else:
            folder = base / out_dir if out_dir else src.parent
            out = output_name(src, slug(query), mode, folder)
        jobs.append(Job(src, [query], [out], mode))
    return jobs


def _seconds(path: Path) -> float:
    try:
        info = sf.info(str(path))
        return float(info.frames) / info.samplerate
    except Exception:  # an unreadable input fails later, as its own job, with a clear error
        return 0.0


def run(args: argparse.Namespace) -> int:
    if (args.clap_checkpoint or args.clap_tokenizer) and not args.checkpoint:
        raise LivesepError("--clap-checkpoint and --clap-tokenizer need --checkpoint")
    if args.batch:
        if args.inputs or args.query or args.keep or args.remove or args.output:
            raise LivesepError("--batch takes its inputs, queries and outputs from the CSV")
        jobs = jobs_from_csv(Path(args.batch), args.mode, args.out_dir)
    else:
        jobs = jobs_from_args(args)
    check_plan(jobs)
    for folder in {out.parent for job in jobs for out in job.outputs}:
        clean_stale_temps(folder)  # what a killed run left (SIGKILL cannot be caught)
    if args.expect_digest and args.checkpoint:
        raise LivesepError("--expect-digest pins a bundle; it does not apply to --checkpoint")
    bundle = (
        None
        if args.checkpoint
        else load_bundle(args.bundle or default_bundle_path(), expect_digest=args.expect_digest)
    )
    separator = Separator(
        bundle=bundle,
        checkpoint=args.checkpoint,
        clap_checkpoint=args.clap_checkpoint,
        clap_tokenizer=args.clap_tokenizer,
        threads=args.threads,
        snap=not args.no_snap,
        expert=expert_wanted(args.no_expert),
    )
    return run_jobs(separator, jobs, args.overwrite, quiet=args.quiet)


def run_jobs(separator: Separator, jobs: list[Job], overwrite: bool, quiet: bool = False) -> int:
    """Run every job under one progress bar (seconds of input audio); 1 if any failed."""
    from tqdm import tqdm

    total = sum(_seconds(job.input) for job in jobs)
    requests = _read_requests(separator, jobs, quiet)
    failed = 0
    bar_format = "{l_bar}{bar}| {n:.1f}/{total:.1f} s of audio [{elapsed}<{remaining}]"
    with tqdm(total=total, bar_format=bar_format, disable=quiet, file=sys.stderr) as bar:
        for i, job in enumerate(jobs, start=1):
            rate = _rate(job.input)
            try:
                written = separator.separate_file(
                    job.input,
                    [requests.get(_key(job, q)) or _read(separator, job, q) for q in job.queries],
                    job.outputs,
                    mode=job.mode,  # type: ignore[arg-type]
                    overwrite=overwrite,
                    progress=_advance(bar, rate),
                )
            except (LivesepError, OSError) as exc:  # OSError: permissions, ...
                failed += 1
                bar.write(
                    f"livesep separate: job {i} failed: {printable(str(exc))}", file=sys.stderr
                )
                continue
            for path in written:
                bar.write(f"wrote {printable(str(path))}", file=sys.stdout)
    if failed:
        print(f"livesep separate: {failed} of {len(jobs)} jobs failed", file=sys.stderr)
    return 1 if failed else 0


def _key(job: Job, query: str) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    return (query, job.mode, job.keep, job.remove)


def _read(separator: Separator, job: Job, query: str) -> Request:
    """The request of one of a job's queries (its --keep/--remove parts, if it has them)."""
    if job.keep or job.remove:
        return separator.queries.read_parts(job.keep, job.remove)
    return separator.read(query, job.mode)  # type: ignore[arg-type]


def _read_requests(separator: Separator, jobs: list[Job], quiet: bool) -> dict[Any, Request]:
    """Read every distinct query once, before the work; print what each reads as and a
    'warning: ... does not know ...' line for each sound the model does not know (or, for
    a request the speech expert takes, the route instead)."""
    requests: dict[Any, Request] = {}
    for job in jobs:
        for query in job.queries:
            key = _key(job, query)
            if key in requests:
                continue
            try:
                request = _read(separator, job, query)
            except LivesepError:  # a bad query fails as its own job, with the reason
                continue
            requests[key] = request
            line = route_line(separator, request) if separator.expert else None
            if line:  # always, as the warnings: which system runs, or what the extra adds
                print(line, file=sys.stderr)
            if separator.uses_expert(request):  # the expert reads no captions
                continue
            for warning in request.warnings():  # always: a wrong sound is worse than noise
                print(f"livesep separate: {warning}", file=sys.stderr)  # printable already
            if quiet:
                continue
            removal = " (leave out)" if request.keep else " (remove)"  # as `Request.describe`
            for sound in request.sounds:
                role = "" if len(request.sounds) == 1 else " (keep)" if sound.keep else removal
                if sound.reading:
                    shown = printable(sound.text, TEXT_SHOWN)
                    print(f'query "{shown}"{role} reads as: {sound.nearest()}', file=sys.stderr)
    return requests


def expert_wanted(no_expert: bool) -> bool:
    """The speech expert is on unless --no-expert or LIVESEP_NO_EXPERT (not "" or "0")."""
    return not no_expert and os.environ.get("LIVESEP_NO_EXPERT", "") in ("", "0")


def route_line(separator: Separator, request: Request) -> str | None:
    """The line "query 'voice' -> speech expert (DeepFilterNet3, 30 ms latency)" for a
    request the expert takes; what the `speech` extra would add when it is missing; None
    otherwise."""
    from livesep import expert

    if separator.route(request) != "expert":
        return None
    shown = printable(request.text, TEXT_SHOWN)
    if not expert.available():
        return f"query '{shown}' is a speech query: {expert.EXTRA_HINT}"
    info = expert.info()
    return f"query '{shown}' -> speech expert ({info.name}, {info.latency_ms:.0f} ms latency)"


def _advance(bar: Any, rate: int) -> Callable[[int], None]:
    """Progress callback: `frames` input frames at `rate` Hz advance the bar in seconds."""

    def update(frames: int) -> None:
        bar.update(frames / rate)

    return update


def _rate(path: Path) -> int:
    try:
        return int(sf.info(str(path)).samplerate) or 1
    except Exception:  # reported by the job itself
        return 1
