"""The web app: a request service that knows nothing of Gradio, the page, the launcher.

- :mod:`webapp.limits`: every limit of the app, one definition each.
- :mod:`webapp.service`: what one request does (checks, one library call, result files);
  refusals are :class:`webapp.service.Refusal` exceptions with a user-facing message.
- :mod:`webapp.files`: result files on disk and uploads kept in a session.
- :mod:`webapp.views`, :mod:`webapp.tree_view`: a translation drawn for people (tables,
  heat maps, the beam tree, export files).
- :mod:`webapp.page`: the widgets; :mod:`webapp.events`: their handlers, wired by name,
  and the API; :mod:`webapp.links`: share links.
- :mod:`webapp.launcher`: command line, model loading, process settings, warm-up.

``app.py`` (the Space's entry point) only calls :func:`webapp.launcher.main`. Not
installed with the ``seq2seq`` package (like ``training/``).
"""
