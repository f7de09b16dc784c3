"""Models arrive with the issues that fill this app."""
