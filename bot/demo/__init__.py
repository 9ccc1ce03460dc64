"""Demo data: deterministic synthetic exports loaded through the real import path, and the seed action log."""

from bot.demo.exports import DATASETS, FILE_NAMES, FORCES, write_exports
from bot.demo.load import DemoImportError, DemoResult, load_demo, seed_actions_path

__all__ = [
    "DATASETS",
    "FILE_NAMES",
    "FORCES",
    "DemoImportError",
    "DemoResult",
    "load_demo",
    "seed_actions_path",
    "write_exports",
]
