"""asr.train"""
