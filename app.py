"""The Gradio app (the Space's entry point): ``python app.py [--model DIR_OR_REPO ...]
[--host H] [--port P] [--share]``; ``python app.py --help`` lists every option.

The app lives in :mod:`webapp`: the request service (:mod:`webapp.service`), the page
(:mod:`webapp.page`, :mod:`webapp.events`) and the launcher (:mod:`webapp.launcher`).
"""

from webapp.launcher import main

if __name__ == "__main__":
    main()
