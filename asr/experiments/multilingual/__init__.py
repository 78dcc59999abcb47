"""Multilingual and transfer-learning experiments for a low-resource language (issue 5).

How to run::

    python recipes/synth/run.py --exp exp/ml --preset multilingual         # corpus, then the experiments
    python recipes/synth/run.py --exp exp/ml --preset multilingual --stage multilingual   # experiments only
    python recipes/synth/run.py --exp exp/smoke --preset smoke --stage multilingual       # tiny, ~1 minute

    # from Python, on any per-language manifests (each row has ``lang``) and lexicons:
    data = {lang: LanguageData(train=..., dev=..., test=..., lexicon=...) for lang in ("en", "es", "sw")}
    results = run_experiments(data, "exp/ml/multilingual", ExperimentConfig(target="sw", minutes=(10, 30, 60)))

What it measures. One language is the low-resource *target* (``sw``), its
training audio cut to N minutes (10, 30, 60: nested subsets drawn with
``subset_seed``, the 10-minute set inside the 30-minute one); the other
languages are the high-resource *sources*. Every model is the tiny Conformer
of :class:`~asr.models.multilingual.MultilingualCTC`, trained by
:func:`~asr.train.multilingual.train_multilingual`.

=============  ==========================================================================
experiment     cells
=============  ==========================================================================
scratch        a character CTC trained on the target subset alone, per size
joint          one model trained from scratch on the sources + the target subset, per size
finetune       the model pre-trained on the sources (trained once), fine-tuned on the target
               subset, per size x policy (head only, top-k blocks, full, full + L2-SP)
sources        per source language: a monolingual model of the same size vs the pre-trained
               multilingual model (and the joint model at ``transfer_minutes``)
layers         first k encoder blocks (and the subsampling) copied from the pre-trained model,
               the rest freshly initialised, full training on the target, k = 0..num_layers
progressive    a new encoder column with lateral connections from the frozen pre-trained one
adversarial    full fine-tuning + a speaker classifier behind gradient reversal
new_words      test sentences holding a word absent from the training transcripts: the
               character head vs the universal phone head + a G2P lexicon (espeak-ng),
               both through the lexicon + word-LM decoder
=============  ==========================================================================

``layers``, ``progressive``, ``adversarial`` and ``new_words`` run at
``transfer_minutes`` (30). Test speakers are never seen in training (the synth
corpus draws test voices from variants no training speaker uses), which is
what the adversarial cell is measured on.

Every cell reports test WER and CER twice: greedy, and through the lexicon +
word trigram decoder (:class:`~asr.decoding.ctc_lexicon.LexiconDecoder`; the LM
is trained on that cell's target training text). With tiny CPU models greedy
character WERs sit near 100 %, so the LM columns and the CERs are where
differences show. Models from scratch have character heads only; the
pre-trained, joint and fine-tuned models also train the universal phone head
(``phone_weight``; each language's phones masked to its inventory).

Everything is resumable: a cell whose ``results/<cell>.json`` exists is
skipped, a training run that was killed resumes from its checkpoint. Outputs,
under ``OUT``: ``results/`` (one JSON per cell), ``results.json`` (all cells +
every run's training summary), ``report.md`` (the tables), ``wer_vs_minutes.png``,
``layer_transfer.png``, ``runs/<run>/`` (training directories, each with its
``model/``), ``data/`` (subsets with phone transcripts, tokenizers), ``lm/``.

The modules: :mod:`.config` (what to run, the output layout), :mod:`.data` (subsets,
phone transcripts, tokenizers, LMs), :mod:`.runs` (the training runs),
:mod:`.evaluation` (test decoding and scoring), :mod:`.cells` (one function per cell),
:mod:`.stage` (every cell, then the report; the recipe stage) and :mod:`.report`
(markdown tables and plots).
"""

from __future__ import annotations

from asr.experiments.multilingual.config import EXPERIMENTS, ExperimentConfig, LanguageData, recipe_layout
from asr.experiments.multilingual.data import _write_lm  # noqa: F401  (the tests use it)
from asr.experiments.multilingual.data import ensure_target_audio, nested_subsets
from asr.experiments.multilingual.evaluation import Decoders
from asr.experiments.multilingual.report import write_report
from asr.experiments.multilingual.stage import run_experiments, run_synth_experiments

__all__ = [
    "EXPERIMENTS",
    "ExperimentConfig",
    "LanguageData",
    "Decoders",
    "recipe_layout",
    "ensure_target_audio",
    "nested_subsets",
    "run_experiments",
    "run_synth_experiments",
    "write_report",
]
