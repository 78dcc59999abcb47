"""Data layer: manifests, Kaldi data dirs, datasets, batching, the synthetic corpus."""

from asr.data.collate import collate_waveforms, pad_sequences
from asr.data.dataset import AudioDataset, SkipReport, validate
from asr.data.kaldi import read_kaldi_dir, write_kaldi_dir
from asr.data.manifest import (
    ManifestError,
    Utterance,
    filter_manifest,
    read_manifest,
    speakers,
    total_duration,
    write_manifest,
)
from asr.data.sampler import DurationBucketSampler

__all__ = [
    "AudioDataset", "DurationBucketSampler", "ManifestError", "SkipReport", "Utterance",
    "collate_waveforms", "filter_manifest", "pad_sequences", "read_kaldi_dir", "read_manifest",
    "speakers", "total_duration", "validate", "write_kaldi_dir", "write_manifest",
]
