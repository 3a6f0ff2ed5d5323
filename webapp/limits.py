"""Every limit of the app, one definition each (the library's own caps are in
:mod:`seq2seq.options`).

Imports nothing heavy: training's evaluation reports which test sentences are over the
app's caps.
"""

MAX_INPUT_CHARS = 2000  # longest text per request (and per line of an uploaded file)
MAX_UPLOAD_BYTES = 2 << 20  # largest file the page accepts (2 MiB)
MAX_RESULT_BYTES = 5_000_000  # what one request may produce (downloads, API answers)
RESULT_MAX_AGE = 3600.0  # seconds a result file stays downloadable
SESSION_MAX_AGE = 1800.0  # seconds a session keeps its result and upload in memory
MAX_SESSIONS = 200  # sessions whose page state the server keeps (the oldest go first)
CONCURRENCY = 2  # requests decoded at once, all endpoints and the page together
MAX_QUEUE = 64  # requests waiting at most; more are refused as busy
