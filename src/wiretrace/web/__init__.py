"""wiretrace.web: ``wiretrace serve``, the web viewer and the HTTP API (read-only).

- :mod:`~wiretrace.web.app`: the FastAPI application, middleware (size limit, token,
  loopback hosts, security headers), the one error shape, and :func:`serve`.
- :mod:`~wiretrace.web.api`: JSON under ``/api`` (OpenAPI at ``/api/openapi.json``).
- :mod:`~wiretrace.web.views` and ``templates/``: the HTML viewer.
- :mod:`~wiretrace.web.data`: what both read (paged SQL over the store's tables, library
  calls for single objects); :mod:`~wiretrace.web.check`: the pasted-article check.
- :mod:`~wiretrace.web.snapshot`: the store as last published, so that the server keeps
  answering while another process writes it (see :mod:`wiretrace.snapshots`).

Needs the ``web`` extra (FastAPI, uvicorn). The library never imports this package.
"""
