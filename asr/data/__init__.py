"""asr.data"""
