"""asr.models"""
