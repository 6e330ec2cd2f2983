"""Punchline developer tools: train, export, upload and run the lyric model locally."""
