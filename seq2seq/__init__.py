"""seq2seq: a Keras 3 encoder–decoder with attention, its searches, and its model folders.

Importing the package registers the model's Keras classes (:mod:`seq2seq.model`,
:mod:`seq2seq.attention`), so that after ``import seq2seq``::

    model = keras.saving.load_model("hf://USER/NAME")   # or a local model folder
    Translator.for_model(model).translate_texts(["Thank you very much."], beam_size=5)

works without ``custom_objects``. Nothing else happens at import (no TensorFlow beyond
what ``import keras`` loads, no logging set-up, no downloads).
"""

from seq2seq import model as _model  # noqa: F401  (registers the Keras classes)

__version__ = "0.2.0"
