"""Serving side of Punchline: everything the deployed Cloud Function runs."""
