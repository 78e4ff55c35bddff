"""The tutorial models' settings: shared with tinygrad_mnist, which owns them (plain data, no torch).

See ``tinygrad_mnist/specs.py``; this module re-exports it so that reference code reads
``from reference.specs import SPECS`` as before.
"""
from tinygrad_mnist.specs import *  # noqa: F401,F403
from tinygrad_mnist.specs import __all__  # noqa: F401
