"""Experiments: measured comparisons built from the toolkit's parts, called by recipe stages.

* :mod:`asr.experiments.multilingual`: multilingual and transfer learning for a
  low-resource language (issue 5): from scratch vs joint vs pre-trained and
  fine-tuned, layer transfer, progressive columns, adversarial speakers, new words.
"""
