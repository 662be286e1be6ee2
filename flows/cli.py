"""The `qazflow` command.

  qazflow build  key=value ...     run the build (embedded local Ray unless ray.address)
  qazflow inputs key=value ...     what that build would read, by kind of file, and what it
                                   would leave out (no document read, no Ray started)
  qazflow submit key=value ...     the same build as a Ray job on ray.address
  qazflow status output=DIR [collection=NAME] [books=true]
                                   digitization and corpus progress; writes report.html
  qazflow shards verify DIR        checksums, counts, manifest consistency
  qazflow shards mixture DIR PART=WEIGHT[:MAX_EPOCHS] ... [--out=FILE]
                                   write a mixture file (default DIR/shards/mixture.json)
                                   and print the token budget per partition
  qazflow shards inspect DIR        totals by source and language, token-length histogram,
                                   a decoded sample per partition
  qazflow shards export-megatron DIR OUT
                                   Megatron-LM .bin/.idx, one pair per partition

  --log-format=json                progress lines as JSON objects (time, stage, message),
                                   one per line, for log collectors (any command)
"""
from __future__ import annotations

import json
import os
import sys

from flows.config import ConfigError, describe, load_config

USAGE = __doc__.strip()


def _fail(message: str) -> int:
    print(f"qazflow: error: {message}", file=sys.stderr)
    return 2


def cmd_build(args: list[str]) -> int:
    from flows.build import run_build

    from flows.inputs import disk_failure

    cfg = load_config(args)
    try:
        report = run_build(cfg)
    except Exception as exc:  # a disk that fills up or turns read-only mid-run: one line, not Ray's traceback
        if why := disk_failure(exc):
            return _fail(f"output: cannot write to {cfg.output}: {why}")
        raise
    docs = report["documents"]
    print(f"\nqazflow build finished in {report['timings']['total']:.1f}s")
    print(f"  documents: {docs['in']} in = {docs['kept']} kept + {docs['rejected']} rejected "
          f"{json.dumps(docs['rejected_by_reason'], ensure_ascii=False)}")
    print(f"  shards:    {report['shards']['n_shards']} shards, {report['shards']['n_tokens']} tokens")
    print(f"  outputs:   {cfg.output}/  (documents/ rejected/ pages/ shards/ report.json report.html)")
    if ignored := report["inputs"]["ignored_files"]:
        print(f"  left out:  {len(ignored)} input files of a kind no source reads, e.g. {ignored[0]} "
              "(report.json: inputs.ignored_files)")
    return 0 if docs["balanced"] else 1


def cmd_inputs(args: list[str]) -> int:
    from flows.build import storage_for
    from flows.inputs import find_inputs, survey
    from flows.shards import instruction_files

    cfg = load_config(args)
    storage = storage_for(cfg)
    found = find_inputs(cfg, storage)
    print("\n".join(survey(found, instruction_files(cfg, storage) if cfg.inputs.instructions else [])))
    return 0


def cmd_submit(args: list[str]) -> int:
    from flows.submit import submit

    cfg = load_config(args)
    if not cfg.ray.address:
        return _fail("ray.address: required for submit, e.g. ray.address=http://HEAD:8265")
    return submit(cfg.ray.address, args)


def cmd_status(args: list[str]) -> int:
    from flows.status import show_status

    short = ("collection=", "books=")  # `collection=X` is `status.collection=X`
    cfg = load_config([f"status.{a}" if a.startswith(short) else a for a in args])
    return show_status(cfg)


def _shards_dir(target: str) -> str:
    return target if target.rstrip("/").endswith("shards") else f"{target.rstrip('/')}/shards"


def cmd_shards(args: list[str]) -> int:
    from flows.build import storage_for

    if len(args) < 2 or args[0] not in ("verify", "mixture", "export-megatron", "inspect"):
        return _fail("usage: qazflow shards verify DIR | qazflow shards mixture DIR PART=WEIGHT[:MAX_EPOCHS] ... "
                     "[--out=FILE] | qazflow shards export-megatron DIR OUT [storage.s3.endpoint_url=...]")
    command, target, rest = args[0], args[1], args[2:]
    overrides = [a for a in rest if a.startswith("storage.")]
    cfg = load_config(overrides, require_output=False)
    storage, shards_dir = storage_for(cfg), _shards_dir(target)
    if command == "inspect":
        from operators.tokens.inspect import inspect_shards

        print(inspect_shards(shards_dir))
        return 0
    if command == "export-megatron":
        from operators.tokens.megatron import export_megatron

        if not rest or rest[0] in overrides:
            return _fail("usage: qazflow shards export-megatron DIR OUT")
        for prefix, n in export_megatron(shards_dir, rest[0]).items():
            print(f"{prefix}.bin/.idx: {n} documents")
        return 0
    if command == "mixture":
        return shards_mixture(storage, shards_dir, [a for a in rest if a not in overrides])
    from flows.verify import verify_shards

    problems = verify_shards(storage, shards_dir)
    for problem in problems:
        print(f"FAIL {problem}")
    print("OK: shards match the manifest" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def shards_mixture(storage, shards_dir: str, args: list[str]) -> int:
    from flows.shards import MANIFEST
    from flows.storage import join
    from operators.tokens.mixture import Mixture, budget_table, parse_weights
    from schemas import ShardManifest

    out = next((a.removeprefix("--out=") for a in args if a.startswith("--out=")), join(shards_dir, "mixture.json"))
    try:
        weights, caps = parse_weights([a for a in args if not a.startswith("--out=")])
        if not weights:
            raise ValueError("give at least one PART=WEIGHT, e.g. text/kk=0.5:4 news/ru=0.3")
        manifest = ShardManifest.from_json(storage.read_text(join(shards_dir, MANIFEST)))
        mixture = Mixture(weights=weights, max_epochs=caps)
        table = budget_table(mixture, manifest.partitions)
    except (ValueError, FileNotFoundError) as exc:
        return _fail(f"shards mixture: {exc}")
    storage.write_text(out, mixture.to_json())
    print(f"{'partition':<20}{'tokens':>14}{'weight':>9}{'max_epochs':>12}{'budget':>14}{'passes':>8}")
    for row in table:
        print(f"{row['partition']:<20}{row['tokens']:>14}{row['weight']:>9.3f}{row['max_epochs']:>12g}"
              f"{row['budget']:>14}{row['passes']:>8.2f}")
    print(f"{'epoch total':<20}{sum(r['tokens'] for r in table):>14}{'':>21}{sum(r['budget'] for r in table):>14}")
    print(f"wrote {out}")
    return 0


COMMANDS = {"build": cmd_build, "inputs": cmd_inputs, "submit": cmd_submit, "status": cmd_status, "shards": cmd_shards}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(USAGE)
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    command, args = argv[0], argv[1:]
    for flag in [a for a in args if a.startswith("--log-format=")]:
        args.remove(flag)
        if (fmt := flag.split("=", 1)[1]) not in ("text", "json"):
            return _fail(f"--log-format: text or json, not {fmt!r}")
        os.environ["QAZFLOW_LOG_FORMAT"] = fmt  # read by flows.runtime.log; a submitted job inherits it
    if "--help" in args or "-h" in args:
        print(USAGE + "\n\n" + describe())
        return 0
    try:
        return COMMANDS[command](args)
    except ConfigError as exc:
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
