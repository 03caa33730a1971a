"""The program: the `face-studio` console script and `python -m studio`.

`face-studio bench ...` is the speed benchmark (studio.benchmarks.bench), which sits on top of
the app and imports it; every other command is the app's own (studio.cli). The app never
imports the benchmarks.
"""

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "bench":  # a benchmark with its own options
        from studio.benchmarks.bench import main as bench_main

        return bench_main(argv[1:])
    from studio.cli import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
