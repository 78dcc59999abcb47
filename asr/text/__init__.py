"""asr.text"""
