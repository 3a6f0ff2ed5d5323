"""seq2seq: a Keras 3 encoder–decoder with attention, its searches, and its model folders.

Importing the package imports no Keras (so ``python -m seq2seq.translate --help`` answers
at once). Importing :mod:`seq2seq.model` registers the model's Keras classes (so does
anything that loads a model: :mod:`seq2seq.translator`, :mod:`seq2seq.bundle`,
:mod:`seq2seq.hub`), so that after ``import seq2seq.model``::

    model = keras.saving.load_model("hf://USER/NAME")   # or a local model folder
    Translator.for_model(model).translate_texts(["Thank you very much."], beam_size=5)

works without ``custom_objects``. Nothing else happens at import (no logging set-up, no
downloads).
"""

__version__ = "0.2.0"
