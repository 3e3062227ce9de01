"""wiretrace.analyze: what the aligned passages mean.

- :mod:`~wiretrace.analyze.provenance`: origin of a pair with confidence and evidence,
  credit check, coverage; copy chains and near-duplicate groups (``resolve_chains``).
- :mod:`~wiretrace.analyze.patchwork`: each sentence of an article -> source or novel.
- :mod:`~wiretrace.analyze.graph`: the reuse graph (GraphML, JSON, outlet summary).
- :mod:`~wiretrace.analyze.stories` and :mod:`~wiretrace.analyze.facts`: stories and
  their facts.

Import from the submodules; this package imports nothing so that each stays light.
"""
