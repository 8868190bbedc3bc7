"""FX only: partition an aten graph per target, lift subgraphs, key them, render references."""
from .partition import LeftOut, Partitioning, op_name, partition, short_op_name
from .render import make_problem, render_reference
from .signature import key_of, signature
from .subgraph import Subgraph, lift

__all__ = ["LeftOut", "Partitioning", "Subgraph", "key_of", "lift", "make_problem", "op_name",
           "partition", "render_reference", "short_op_name", "signature"]
