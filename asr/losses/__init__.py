"""asr.losses"""
