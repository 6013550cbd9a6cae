"""The ``nuvyn-executor`` command line: a thin layer over ``nuvyn_executor.engine``."""

import os

# numpy's BLAS keeps a pool of threads that spin for a while after any call; the executor does no linear
# algebra and runs one worker process per core, so those threads only steal CPU (measured: ~8 % of a
# large run's CPU time).  Set before numpy is imported; a value the user chose is kept.
for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
