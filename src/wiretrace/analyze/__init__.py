"""wiretrace.analyze: what the aligned passages mean.

- :mod:`~wiretrace.analyze.provenance`: origin of a pair with confidence and evidence,
  credit check, coverage; copy chains and near-duplicate groups (``resolve_chains``).
- :mod:`~wiretrace.analyze.patchwork`: each sentence of an article -> source or novel.
- :mod:`~wiretrace.analyze.graph`: the reuse graph (GraphML, JSON, outlet summary).
- :mod:`~wiretrace.analyze.stories` (online assignment, merging; term vectors in
  :mod:`~wiretrace.analyze.story_vectors`) and :mod:`~wiretrace.analyze.facts`: stories
  and their facts; :mod:`~wiretrace.analyze.entities` (alias forms merged, kinds from the
  alias and agency tables) and :mod:`~wiretrace.analyze.story_summary` (what a story shows).

Import from the submodules; this package imports nothing so that each stays light.
"""
