"""Data files of Blobscope (icons, translations, desktop integration); no code."""
