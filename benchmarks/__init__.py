"""`make bench`: timings of the panel build, the frequentist fits, the Bayesian fits and the second study's panel
and fits, each a script run from the repository root (`python -m benchmarks.<name> --help`) that writes its
results to build/bench/. Not part of the installed package."""
