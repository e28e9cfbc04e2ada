"""`livesep learn`: teach the model a sound from examples (query by example).

    livesep learn NAME FILE [FILE ...] [--not FILE ...] [--corpus DIR] [--bundle B]
    livesep learn --list                 # the learned queries, and for which bundle
    livesep learn --forget NAME          # delete one (its stored examples too)
    livesep learn --refit [NAME ...]     # fit stored queries again for this bundle

Then `-q @NAME` anywhere a sound can be named: `livesep separate in.wav -q @NAME`,
"@NAME, not music", "remove @NAME", in `livesep live`, the GUI and `livesep evaluate`.
Fitting needs torch (the `train` extra); using a learned query does not.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from livesep.bundle import Bundle, default_bundle_path, load_bundle
from livesep.errors import LivesepError
from livesep.learned import LearnedQuery, QueryStore, check_name

HELP = "teach the model a sound from a few examples (query by example: -q @NAME)"
TORCH_HINT = (
    "`livesep learn` fits with torch: install the train extra (pip install 'livesep[train]')"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="name of the new query (-q @NAME)")
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="examples of the sound: 5-60 s in all"
    )
    parser.add_argument(
        "--not",
        dest="negatives",
        action="append",
        default=[],
        metavar="FILE",
        help="a recording of what the sound is not (mixed with the examples; repeatable)",
    )
    parser.add_argument(
        "--corpus",
        metavar="DIR",
        help="a corpus (livesep data build) whose clips are mixed with the examples "
        "(default: synthetic noises and the --not files only)",
    )
    parser.add_argument("--bundle", help="the bundle to fit for (default: the default bundle)")
    parser.add_argument(
        "--checkpoint",
        help="the torch checkpoint the bundle came from (default: rebuilt "
        "from the bundle's own graphs)",
    )
    parser.add_argument(
        "--like",
        metavar="TEXT",
        help="start from this text query's conditioning (default: the mean of the bundle's "
        "training captions)",
    )
    parser.add_argument("--steps", type=int, default=120, help="optimiser steps")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the mixtures")
    parser.add_argument("--replace", action="store_true", help="replace a query of that name")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the learned queries")
    what.add_argument("--forget", metavar="NAME", help="delete a learned query")
    what.add_argument(
        "--refit",
        action="store_true",
        help="fit the stored queries (NAME ... or all) again for --bundle / the default "
        "bundle, from their stored examples",
    )


def run(args: argparse.Namespace) -> int:
    store = QueryStore()
    if args.list:
        return _list(store, args)
    if args.forget:
        folder = store.forget(check_name(args.forget))
        print(f"forgot @{args.forget} ({folder})", file=sys.stderr)
        return 0
    if args.refit:
        names = [args.name, *args.files] if args.name else store.names()
        return _refit(store, [check_name(n) for n in names], args)
    if not args.name:
        raise LivesepError("give NAME and example FILEs (or --list, --forget NAME, --refit)")
    check_name(args.name)
    if not args.files:
        raise LivesepError(f"no examples: `livesep learn {args.name} FILE ...`")
    if store.exists(args.name) and not args.replace:
        raise LivesepError(
            f"learned query @{args.name} exists; --replace it or `livesep learn --forget "
            f"{args.name}` first"
        )
    bundle = _bundle(args)
    query = _fit(bundle, args.name, args.files, args.negatives, args, settings=None)
    stored = store.save(query, args.files, args.negatives, replace=args.replace)
    print(f"learned @{args.name}: {stored.summary()}", file=sys.stderr)
    print(f"use it as: livesep separate IN.wav -q @{args.name} -o OUT.wav", file=sys.stderr)
    return 0


def _bundle(args: argparse.Namespace) -> Bundle:
    return load_bundle(args.bundle or default_bundle_path())


def _list(store: QueryStore, args: argparse.Namespace) -> int:
    names = store.names()
    if not names:
        print(f"no learned queries in {store.root}", file=sys.stderr)
        return 0
    digest = _bundle(args).digest
    for name in names:
        query = store.load(name)
        mark = "" if query.bundle_digest == digest else "  [another bundle: --refit]"
        print(query.summary() + mark)
    return 0


def _refit(store: QueryStore, names: list[str], args: argparse.Namespace) -> int:
    bundle = _bundle(args)
    for name in names:
        old = store.load(name)
        if not old.examples:
            raise LivesepError(f"@{name} has no stored examples to refit from")
        settings = dict(old.settings)
        settings.pop("interferers", None)
        query = _fit(bundle, name, list(old.examples), list(old.negatives), args, settings=settings)
        query = LearnedQuery(
            **{**query.__dict__, "examples": old.examples, "negatives": old.negatives}
        )
        store.save(query, replace=True)
        print(f"refitted @{name}: {store.load(name).summary()}", file=sys.stderr)
    return 0


def _fit(
    bundle: Bundle,
    name: str,
    files: list[Any],
    negatives: list[Any],
    args: argparse.Namespace,
    settings: dict[str, Any] | None,
) -> LearnedQuery:
    """Fit one query for `bundle` (torch from here on)."""
    try:
        import torch

        from livesep.training import learn as lr
    except ImportError:
        raise LivesepError(TORCH_HINT) from None
    torch.set_num_threads(max(1, args.threads))
    rate = bundle.sample_rate
    examples = lr.load_examples(files, rate, "example", lr.MIN_ACTIVE_S)
    examples = lr.cap_total(examples, rate, lr.MAX_TOTAL_S)
    recordings = lr.load_examples(negatives, rate, "--not") if negatives else []
    corpus = getattr(args, "corpus", None) or (settings or {}).get("corpus")
    if corpus:
        recordings += lr.corpus_interferers(corpus, rate)
    knobs = lr.LearnSettings(steps=args.steps, seed=args.seed)
    if settings:
        knobs = lr.settings_from_dict(settings)
    knobs.interferers = lr.describe_interferers(len(negatives), corpus)
    knobs.corpus = str(corpus) if corpus else None
    like = args.like if args.like is not None else _like_from(knobs.init)
    model = lr.model_for_bundle(bundle, args.checkpoint)
    interferers = lr.Interferers(recordings, rate)
    start, knobs.init = lr.start_vector(bundle, like)
    result = _run_fit(lr, model, examples, interferers, start, knobs, args)
    if result.interrupted:
        print(f"interrupted at step {result.steps}: keeping the best so far", file=sys.stderr)
    return LearnedQuery(
        name=name,
        vector=result.vector,
        bundle_digest=bundle.digest,
        bundle_name=bundle.name,
        sdri_db=round(result.sdri_db, 2),
        start_sdri_db=round(result.start_sdri_db, 2),
        settings=lr.settings_dict(knobs) | {"seconds": round(result.seconds, 1)},
    )


def _like_from(init: str) -> str | None:
    return init[len("text:") :] if init.startswith("text:") else None


def _run_fit(
    lr: Any,
    model: Any,
    examples: Any,
    interferers: Any,
    start: Any,
    knobs: Any,
    args: argparse.Namespace,
) -> Any:
    from tqdm import tqdm

    with tqdm(total=knobs.steps, disable=args.quiet, file=sys.stderr, unit="step") as bar:

        def progress(step: int, snr: float, best: float) -> None:
            bar.update(1)
            bar.set_postfix_str(f"train SNR {snr:5.1f} dB, held-out SDRi {best:5.1f} dB")

        return lr.learn(model, examples, interferers, start, knobs, progress)
